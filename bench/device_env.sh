# Source this on the GPU machine (the `device` tool) to make the project importable there:
#     source bench/device_env.sh
# It installs the wheels carried in .gpu/wheels (built for the device's Python, see
# ../shared/GPU-NOTES.md) into a scratch folder, unpacks the Debian packages NDI needs from
# .gpu/debs into another one (never into /), and exports PYTHONPATH and LD_LIBRARY_PATH.
# Fetch them here first:
#     pip download --no-deps --only-binary :all: --python-version 3.12 --implementation cp \
#         --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
#         --platform any -d .gpu/wheels pydantic pydantic-core annotated-types typing-inspection \
#         typing-extensions psygnal cbor2 python-osc pyserial zstandard bmdwire ndi-python msgpack opencolorio
#     (cd .gpu/debs && apt-get download libavahi-common3 libavahi-client3 libavahi-common-data libdbus-1-3 \
#         libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblz4-1)
VPSTAGE_SITE=${VPSTAGE_SITE:-/tmp/vpstage-site}
VPSTAGE_LIBS=${VPSTAGE_LIBS:-/tmp/vpstage-libs}
if [ ! -d "$VPSTAGE_SITE" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$VPSTAGE_SITE" \
        .gpu/wheels/*.whl || echo "device_env: pip install failed" >&2
fi
if [ ! -d "$VPSTAGE_LIBS" ]; then
    mkdir -p "$VPSTAGE_LIBS"
    for deb in .gpu/debs/*.deb; do dpkg -x "$deb" "$VPSTAGE_LIBS"; done
fi
export PYTHONPATH="$VPSTAGE_SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export LD_LIBRARY_PATH="$VPSTAGE_LIBS/usr/lib/x86_64-linux-gnu:$VPSTAGE_LIBS/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PYTHONUNBUFFERED=1
