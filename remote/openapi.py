"""The API's OpenAPI 3.1 description (hand-written; served at ``GET /api/openapi.json``)."""

from __future__ import annotations

from typing import Any

from remote.actions import DELAY_MS_RANGE, SETTABLE_PATTERNS, TRANSLATION_M

NAME = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,63}$"}
ERROR = {"description": "refused: a JSON {error, status, field?}; nothing changed",
         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


ACTION_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "engine/start": ("Start the engine (the console's Start; a headless run starts once)", _object({})),
    "engine/stop": ("Stop the engine (ends a headless run)", _object({})),
    "take/start": ("Record a take on a slate", _object({
        "slate": {**NAME, "maxLength": 32}, "scene": {"type": "string", "maxLength": 64},
        "notes": {"type": "string", "maxLength": 2000}, "camera_roll": {"type": "string", "maxLength": 32}},
        ("slate",))),
    "take/stop": ("Stop the take recording", _object({})),
    "pattern": ("Show a test pattern on a canvas (or every canvas); pattern null: back to the scene", _object({
        "canvas": {**NAME, "description": "omitted or null: every canvas"},
        "pattern": {"enum": [*SETTABLE_PATTERNS, None]},
        "color": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255},
                  "minItems": 3, "maxItems": 3}})),
    "tracking/delay": ("Tracking delay compensation of a camera", _object({
        "camera": NAME, "ms": {"type": "number", "minimum": DELAY_MS_RANGE[0], "maximum": DELAY_MS_RANGE[1]}},
        ("camera", "ms"))),
    "camera/active": ("Make a camera the active one (null: the highest priority)", _object({"camera": NAME})),
    "scene/placement": ("Place a scene asset (stage -> scene)", _object({
        "asset": NAME, "translation": {"type": "array", "items": {"type": "number", "minimum": -TRANSLATION_M,
                                                                  "maximum": TRANSLATION_M},
                                       "minItems": 3, "maxItems": 3},
        "yaw_deg": {"type": "number", "minimum": -360, "maximum": 360},
        "pitch_deg": {"type": "number", "minimum": -360, "maximum": 360},
        "roll_deg": {"type": "number", "minimum": -360, "maximum": 360},
        "scale": {"type": "number", "minimum": 0.001, "maximum": 1000}}, ("asset",))),
    "scene/enabled": ("Enable or disable a scene asset", _object({"asset": NAME, "enabled": {"type": "boolean"}},
                                                                 ("asset", "enabled"))),
}


def _get(summary: str, role: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "security": [{"bearer": []}], "x-role": role,
                    "responses": {"200": {"description": "JSON"}, "401": ERROR, "403": ERROR}}}


def _post(summary: str, body: dict[str, Any], role: str) -> dict[str, Any]:
    return {"post": {"summary": summary, "security": [{"bearer": []}], "x-role": role,
                     "requestBody": {"required": False, "content": {"application/json": {"schema": body}}},
                     "responses": {"200": {"description": "done: {ok, action, result}"}, "400": ERROR,
                                   "401": ERROR, "403": ERROR, "409": ERROR, "422": ERROR}}}


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/status": _get("Frame, timecode, cameras' tracking, recording, alarms, viewers, refusals", "viewer"),
        "/api/health": _get("Per-node state and late / dropped totals, tracking receivers, previews", "viewer"),
        "/api/views": _get("Views a viewer may watch: camera, then every canvas", "viewer"),
        "/api/webrtc/offer": _post("Open a viewer: the browser's SDP offer -> the server's answer", _object({
            "sdp": {"type": "string"}, "type": {"enum": ["offer"]}, "view": {"type": "string"},
            "width": {"type": "integer", "minimum": 160, "maximum": 3840},
            "height": {"type": "integer", "minimum": 90, "maximum": 2160},
            "fps": {"type": "number", "minimum": 1, "maximum": 120,
                    "description": "frame rate; the server's --web-fps at most (default: that)"}},
            ("sdp", "type")), "viewer"),
        "/api/webrtc/close": _post("Close a viewer", _object({"viewer": {"type": "integer"}}, ("viewer",)), "viewer"),
        "/api/latency": _post("Report (frame counter, decoded at epoch ms) pairs", _object({
            "samples": {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2}}}, ("samples",)),
            "viewer"),
    }
    for name, (summary, body) in ACTION_BODIES.items():
        paths[f"/api/{name}"] = _post(summary, body, "operator")
    return {
        "openapi": "3.1.0",
        "info": {"title": "vpstage remote control", "version": "1",
                 "description": "Bearer tokens from `main.py token create`; viewer: watch + status, operator: "
                                "control. Bodies are JSON objects; unknown fields are refused."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _object({"error": {"type": "string"}, "status": {"type": "integer"},
                                          "field": {"type": "string"}}, ("error", "status"))},
        },
    }
