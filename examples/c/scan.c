/*
 * Scans a container image with the layerleak C ABI and prints every finding as one JSON line.
 *
 *   cc -std=c99 -I crates/layerleak-ffi/include examples/c/scan.c \
 *      -L target/debug -llayerleak_ffi -Wl,-rpath,target/debug -o scan
 *   ./scan [--fd] [--report] [--stop-after N] IMAGE
 *
 * IMAGE is a docker-save archive, an OCI layout directory or a layer tarball. --fd passes an
 * open file descriptor instead of the path, --report prints the whole JSON report instead of
 * one line per finding, --stop-after N stops the scan after N findings.
 * Exit status: 0 no findings, 1 findings, 2 error (as the layerleak CLI); with --report, 0 when
 * the scan ran (the findings are in the report).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layerleak.h"

struct counter {
    long seen;
    long stop_after; /* 0: never stop */
};

/* Called once per finding; the JSON is only valid during the call. Non-zero stops the scan. */
static int on_finding(const char *finding_json, void *user_data) {
    struct counter *c = user_data;
    printf("%s\n", finding_json);
    c->seen++;
    return c->stop_after > 0 && c->seen >= c->stop_after;
}

static int fail(const char *what) {
    const char *msg = layerleak_last_error();
    fprintf(stderr, "scan: %s: %s\n", what, msg ? msg : "unknown error");
    return 2;
}

int main(int argc, char **argv) {
    int use_fd = 0, whole_report = 0;
    struct counter count = {0, 0};
    const char *image = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fd") == 0) {
            use_fd = 1;
        } else if (strcmp(argv[i], "--report") == 0) {
            whole_report = 1;
        } else if (strcmp(argv[i], "--stop-after") == 0 && i + 1 < argc) {
            count.stop_after = atol(argv[++i]);
        } else {
            image = argv[i];
        }
    }
    if (image == NULL) {
        fprintf(stderr, "usage: scan [--fd] [--report] [--stop-after N] IMAGE\n");
        return 2;
    }

    LayerleakScanner *scanner = layerleak_scanner_new();
    if (scanner == NULL) {
        return fail("creating the scanner");
    }
    /* Options are optional; these are the defaults, spelled out. */
    if (layerleak_scanner_set_show_secrets(scanner, 0) != LAYERLEAK_OK ||
        layerleak_scanner_set_threads(scanner, 0) != LAYERLEAK_OK) {
        int code = fail("setting options");
        layerleak_scanner_free(scanner);
        return code;
    }

    int status;
    if (whole_report) {
        char *report = NULL;
        status = layerleak_scan_path_report(scanner, image, &report);
        if (report != NULL) {
            printf("%s\n", report);
            layerleak_string_free(report);
        }
    } else if (use_fd) {
        int fd = open(image, O_RDONLY);
        if (fd < 0) {
            perror(image);
            layerleak_scanner_free(scanner);
            return 2;
        }
        status = layerleak_scan_fd(scanner, fd, on_finding, &count);
        close(fd); /* the library never closes the caller's descriptor */
    } else {
        status = layerleak_scan_path(scanner, image, on_finding, &count);
    }

    int exit_code;
    switch (status) {
    case LAYERLEAK_OK:
        fprintf(stderr, "status: ok, %ld finding(s)\n", count.seen);
        exit_code = count.seen > 0;
        break;
    case LAYERLEAK_STOPPED:
        fprintf(stderr, "status: stopped after %ld finding(s)\n", count.seen);
        exit_code = 1;
        break;
    case LAYERLEAK_PARTIAL:
        fprintf(stderr, "status: partial, %ld finding(s); first problem: %s\n", count.seen,
                layerleak_last_error());
        exit_code = 2;
        break;
    default:
        exit_code = fail(image);
        break;
    }
    fprintf(stderr, "layerleak %s\n", layerleak_version());
    layerleak_scanner_free(scanner);
    return exit_code;
}
