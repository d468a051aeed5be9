/* The floor of Table 1 on this machine: 1-byte round trips over plain UDP and TCP sockets, in C,
 * blocking calls, no runtime. `psync bench rtt --c-floor BIN` runs the servers and, every round,
 * the clients, interleaved with the SwiftNIO transports.
 *
 *   pingpong udp-server PORT | tcp-server PORT          serve until killed
 *   pingpong udp-client PORT N | tcp-client PORT N      N round trips; prints nanoseconds, one per line
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void fail(const char *what) {
    perror(what);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: pingpong udp-server|tcp-server PORT | udp-client|tcp-client PORT N\n");
        return 2;
    }
    const char *mode = argv[1];
    int port = atoi(argv[2]);
    struct sockaddr_in address = loopback(port);
    char byte = 1;
    int one = 1;
    /* A server ends with the benchmark that started it, however that ends. */
    if (strstr(mode, "server") != NULL) prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (strcmp(mode, "udp-server") == 0) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        if (bind(s, (struct sockaddr *)&address, sizeof address) != 0) fail("bind");
        printf("ready\n");
        fflush(stdout);
        for (;;) {
            struct sockaddr_in from;
            socklen_t length = sizeof from;
            ssize_t n = recvfrom(s, &byte, 1, 0, (struct sockaddr *)&from, &length);
            if (n > 0) sendto(s, &byte, 1, 0, (struct sockaddr *)&from, length);
        }
    }
    if (strcmp(mode, "tcp-server") == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, (struct sockaddr *)&address, sizeof address) != 0) fail("bind");
        if (listen(s, 16) != 0) fail("listen");
        printf("ready\n");
        fflush(stdout);
        for (;;) {
            int c = accept(s, NULL, NULL);
            if (c < 0) continue;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            while (recv(c, &byte, 1, 0) == 1) send(c, &byte, 1, 0);
            close(c);
        }
    }
    if (argc < 4) return 2;
    long count = atol(argv[3]);
    int udp = strcmp(mode, "udp-client") == 0;
    int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (!udp) setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, (struct sockaddr *)&address, sizeof address) != 0) fail("connect");
    uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)(count > 0 ? count : 1));
    for (long i = 0; i < count; i++) {
        uint64_t start = now_ns();
        if (send(s, &byte, 1, 0) != 1) fail("send");
        if (recv(s, &byte, 1, 0) != 1) fail("recv");
        samples[i] = now_ns() - start;
    }
    for (long i = 0; i < count; i++) printf("%llu\n", (unsigned long long)samples[i]);
    return 0;
}
