/* Loaded with LD_PRELOAD into a render node process in loopback mode: every bind() to the
 * wildcard address (0.0.0.0 or ::) binds the loopback address instead (127.0.0.1 or ::1).
 *
 * The NDI runtime listens for receivers on all interfaces and offers no setting to choose the
 * address (its configuration file restricts discovery and the adapters it sends on, not its
 * listening sockets). A rehearsal must not expose anything to the studio network, so the node
 * process is started with this library. Nothing else changes: explicit addresses pass through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static bind_fn real_bind = 0;
    if (!real_bind) {
        real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
    }
    if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in copy;
        memcpy(&copy, addr, sizeof copy);
        if (copy.sin_addr.s_addr == htonl(INADDR_ANY)) {
            copy.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return real_bind(fd, (const struct sockaddr *)&copy, sizeof copy);
        }
    } else if (addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 copy6;
        memcpy(&copy6, addr, sizeof copy6);
        if (IN6_IS_ADDR_UNSPECIFIED(&copy6.sin6_addr)) {
            copy6.sin6_addr = in6addr_loopback;
            return real_bind(fd, (const struct sockaddr *)&copy6, sizeof copy6);
        }
    }
    return real_bind(fd, addr, len);
}
