// Test launcher: installs a classic-BPF seccomp filter that makes io_uring syscalls (and io_uring ring mmaps) fail, then execs a program.
/*
 * Usage: seccomp-launcher [RULES...] -- PROGRAM [ARGS...]
 *
 * Rules (any combination):
 *   --errno SYSCALL=ERRNO        every call of SYSCALL (io_uring_setup | io_uring_enter |
 *                                io_uring_register) fails with ERRNO (name or number)
 *   --enomem-above N             io_uring_setup with entries (args[0], low 32 bits) > N -> ENOMEM
 *   --register-errno OP=ERRNO    io_uring_register with opcode (args[1]) == OP -> ERRNO
 *   --kill SYSCALL               SECCOMP_RET_KILL_PROCESS: the caller dies of SIGSYS
 *   --kill-register OP           SECCOMP_RET_KILL_PROCESS for io_uring_register with opcode
 *                                (args[1]) == OP: the caller dies of SIGSYS at that register call
 *   --mmap-errno OFFSET=ERRNO[@MINLEN]
 *                                mmap with offset (args[5], all 64 bits) == OFFSET and, when
 *                                @MINLEN is given, length (args[1], all 64 bits) >= MINLEN -> ERRNO
 *                                (io_uring maps its SQ ring at 0, CQ ring at 0x8000000, SQEs at
 *                                0x10000000)
 *   --einval-setup-flags MASK    io_uring_setup whose params.flags & MASK != 0 -> EINVAL; needs a
 *                                supervisor (seccomp user notification): the launcher forks,
 *                                the child execs PROGRAM, the parent answers the notifications
 *                                and exits with the program's status (128+signal if killed)
 *   --register-errno-ring OP=ERRNO@ENTRIES
 *                                io_uring_register(fd, OP, ...) -> ERRNO only when the ring behind
 *                                fd has ENTRIES SQ entries (SqMask + 1 in /proc/PID/fdinfo/FD);
 *                                other rings' calls go through. Supervisor, like the flags rule:
 *                                it lets one of two rings of a process be refused
 *   --timeout-ms MS              supervisor only: SIGKILL the program after MS (default 120000),
 *                                exit 124
 *
 * The filter checks seccomp_data.arch against the architecture this file was compiled for and
 * allows everything it does not name. It is inherited across fork and exec, so it covers the
 * program and every process the program starts.
 *
 * Exit codes of the launcher itself: 64 bad arguments, 71 the filter could not be installed or
 * the supervisor failed, 127 exec failed; otherwise the program's own status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define LAUNCHER_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define LAUNCHER_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp-launcher supports x86_64 and aarch64 only"
#endif

/* io_uring syscall numbers: the same on x86_64 and aarch64 (the unified table since 5.1). */
#define NR_IO_URING_SETUP 425
#define NR_IO_URING_ENTER 426
#define NR_IO_URING_REGISTER 427

/* offset of io_uring_params.flags: sq_entries (u32), cq_entries (u32), flags (u32) */
#define IO_URING_PARAMS_FLAGS_OFFSET 8

/* In case the installed headers predate them (they are in 5.0 .. 5.5 uapi). */
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

#define EXIT_USAGE 64
#define EXIT_OSERR 71
#define EXIT_NOEXEC 127
#define EXIT_TIMEOUT 124

#define MAX_RULES 16
#define MAX_FILTER 256

struct named_value {
    const char *name;
    unsigned long value;
};

static const struct named_value syscall_names[] = {
    {"io_uring_setup", NR_IO_URING_SETUP},
    {"io_uring_enter", NR_IO_URING_ENTER},
    {"io_uring_register", NR_IO_URING_REGISTER},
    {NULL, 0},
};

static const struct named_value errno_names[] = {
    {"EPERM", EPERM},   {"ENOENT", ENOENT},         {"EINTR", EINTR},   {"EIO", EIO},
    {"ENXIO", ENXIO},   {"EBADF", EBADF},           {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM},
    {"EACCES", EACCES}, {"EFAULT", EFAULT},         {"EBUSY", EBUSY},   {"EEXIST", EEXIST},
    {"ENODEV", ENODEV}, {"EINVAL", EINVAL},         {"EMFILE", EMFILE}, {"ENFILE", ENFILE},
    {"ENOSYS", ENOSYS}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOTSUP", ENOTSUP},
    {NULL, 0},
};

static const struct named_value register_op_names[] = {
    {"PROBE", 8}, {"ENABLE_RINGS", 12}, {"IOWQ_MAX_WORKERS", 19}, {"PBUF_RING", 22}, {NULL, 0},
};

static const struct named_value setup_flag_names[] = {
    {"IOPOLL", 1u << 0},        {"SQPOLL", 1u << 1},         {"SQ_AFF", 1u << 2},
    {"CQSIZE", 1u << 3},        {"CLAMP", 1u << 4},          {"ATTACH_WQ", 1u << 5},
    {"R_DISABLED", 1u << 6},    {"SUBMIT_ALL", 1u << 7},     {"COOP_TASKRUN", 1u << 8},
    {"TASKRUN_FLAG", 1u << 9},  {"SQE128", 1u << 10},        {"CQE32", 1u << 11},
    {"SINGLE_ISSUER", 1u << 12}, {"DEFER_TASKRUN", 1u << 13}, {"NO_MMAP", 1u << 14},
    {"REGISTERED_FD_ONLY", 1u << 15}, {"NO_SQARRAY", 1u << 16},
    {NULL, 0},
};

struct rule_value {
    unsigned long key;   /* syscall number or register opcode */
    unsigned long value; /* errno */
};

/* mmap(addr, length, prot, flags, fd, offset) refused when offset matches (and length >= min) */
struct mmap_rule {
    uint64_t offset;
    int has_min_length;
    uint64_t min_length;
    unsigned long errno_value;
};

/* io_uring_register(fd, op) refused when the ring behind fd has `entries` SQ entries */
struct ring_register_rule {
    unsigned long op;
    unsigned long errno_value;
    unsigned long entries;
};

struct launcher_rules {
    struct rule_value errno_rules[MAX_RULES];
    int errno_rule_count;
    struct rule_value register_rules[MAX_RULES];
    int register_rule_count;
    unsigned long kill_syscalls[MAX_RULES];
    int kill_count;
    unsigned long kill_register_ops[MAX_RULES];
    int kill_register_count;
    struct mmap_rule mmap_rules[MAX_RULES];
    int mmap_rule_count;
    struct ring_register_rule ring_register_rules[MAX_RULES];
    int ring_register_rule_count;
    int has_enomem_above;
    uint32_t enomem_above;
    int has_einval_flags;
    uint32_t einval_flags_mask;
    long timeout_ms;
};

static void usage_error(const char *what) {
    fprintf(stderr,
            "seccomp-launcher: %s; usage: seccomp-launcher [--errno SYSCALL=ERRNO] "
            "[--enomem-above N] [--register-errno OP=ERRNO] [--kill SYSCALL] [--kill-register OP] "
            "[--mmap-errno OFFSET=ERRNO[@MINLEN]] [--einval-setup-flags MASK] "
            "[--register-errno-ring OP=ERRNO@ENTRIES] [--timeout-ms MS] "
            "-- PROGRAM [ARGS...]\n",
            what);
    exit(EXIT_USAGE);
}

/* A decimal/hex/octal number, or a name from `table`; names may be joined with '|' when
 * `allow_or` (setup flags). Returns 0 on success. */
static int parse_value(const char *text, const struct named_value *table, int allow_or,
                       unsigned long *out) {
    if (text == NULL || *text == '\0') return -1;
    char *copy = strdup(text);
    if (copy == NULL) return -1;
    unsigned long total = 0;
    int parts = 0;
    char *save = NULL;
    for (char *part = strtok_r(copy, "|", &save); part != NULL; part = strtok_r(NULL, "|", &save)) {
        parts++;
        if (parts > 1 && !allow_or) { free(copy); return -1; }
        char *end = NULL;
        errno = 0;
        unsigned long number = strtoul(part, &end, 0);
        if (errno == 0 && end != part && *end == '\0' && part[0] != '-') {
            total |= number;
            continue;
        }
        int found = 0;
        for (const struct named_value *entry = table; table != NULL && entry->name != NULL; entry++) {
            if (strcmp(entry->name, part) == 0) { total |= entry->value; found = 1; break; }
        }
        if (!found) { free(copy); return -1; }
    }
    free(copy);
    if (parts == 0) return -1;
    *out = total;
    return 0;
}

/* "KEY=VALUE" split, both parsed; exits 64 with a message naming the option on error. */
static void parse_pair(const char *option, const char *text, const struct named_value *keys,
                       struct rule_value *out) {
    char message[256];
    const char *equals = text ? strchr(text, '=') : NULL;
    if (equals == NULL) {
        snprintf(message, sizeof message, "%s needs KEY=ERRNO, got '%s'", option, text ? text : "");
        usage_error(message);
    }
    char key[128];
    size_t key_length = (size_t)(equals - text);
    if (key_length == 0 || key_length >= sizeof key) {
        snprintf(message, sizeof message, "%s: bad key in '%s'", option, text);
        usage_error(message);
    }
    memcpy(key, text, key_length);
    key[key_length] = '\0';
    if (parse_value(key, keys, 0, &out->key) != 0) {
        snprintf(message, sizeof message, "%s: unknown key '%s'", option, key);
        usage_error(message);
    }
    if (parse_value(equals + 1, errno_names, 0, &out->value) != 0 || out->value == 0 ||
        out->value > 4095) {
        snprintf(message, sizeof message, "%s: unknown errno '%s' (use a name like EPERM or 1..4095)",
                 option, equals + 1);
        usage_error(message);
    }
}

/* A number for a 64-bit syscall argument: decimal, 0x hex or 0 octal, nothing after it. */
static int parse_u64(const char *text, uint64_t *out) {
    if (text == NULL || *text == '\0' || text[0] == '-') return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long number = strtoull(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0') return -1;
    *out = (uint64_t)number;
    return 0;
}

/* "OFFSET=ERRNO[@MINLEN]"; exits 64 with a message naming the option on error. */
static void parse_mmap_rule(const char *option, const char *text, struct mmap_rule *out) {
    char message[256];
    const char *shown = text ? text : "";
    const char *equals = text ? strchr(text, '=') : NULL;
    if (equals == NULL) {
        snprintf(message, sizeof message, "%s needs OFFSET=ERRNO[@MINLEN], got '%s'", option, shown);
        usage_error(message);
    }
    char part[128];
    size_t length = (size_t)(equals - text);
    if (length == 0 || length >= sizeof part) {
        snprintf(message, sizeof message, "%s: bad OFFSET in '%s' (a number like 0x8000000)", option, shown);
        usage_error(message);
    }
    memcpy(part, text, length);
    part[length] = '\0';
    if (parse_u64(part, &out->offset) != 0) {
        snprintf(message, sizeof message, "%s: bad OFFSET '%s' (a number like 0x8000000)", option, part);
        usage_error(message);
    }
    const char *errno_text = equals + 1;
    const char *at = strchr(errno_text, '@');
    length = at ? (size_t)(at - errno_text) : strlen(errno_text);
    if (length >= sizeof part) length = sizeof part - 1;
    memcpy(part, errno_text, length);
    part[length] = '\0';
    if (parse_value(part, errno_names, 0, &out->errno_value) != 0 || out->errno_value == 0 ||
        out->errno_value > 4095) {
        snprintf(message, sizeof message, "%s: unknown errno '%s' (use a name like ENOMEM or 1..4095)",
                 option, part);
        usage_error(message);
    }
    out->has_min_length = at != NULL;
    out->min_length = 0;
    if (at != NULL && parse_u64(at + 1, &out->min_length) != 0) {
        snprintf(message, sizeof message, "%s: bad MINLEN '%s' (a length in bytes like 8256)", option, at + 1);
        usage_error(message);
    }
}

/* "OP=ERRNO@ENTRIES"; exits 64 with a message naming the option on error. */
static void parse_ring_register_rule(const char *option, const char *text, struct ring_register_rule *out) {
    char message[256];
    const char *shown = text ? text : "";
    const char *at = text ? strrchr(text, '@') : NULL;
    if (at == NULL) {
        snprintf(message, sizeof message, "%s needs OP=ERRNO@ENTRIES, got '%s'", option, shown);
        usage_error(message);
    }
    char pair[128];
    size_t length = (size_t)(at - text);
    if (length == 0 || length >= sizeof pair) {
        snprintf(message, sizeof message, "%s: bad OP=ERRNO in '%s'", option, shown);
        usage_error(message);
    }
    memcpy(pair, text, length);
    pair[length] = '\0';
    struct rule_value value;
    parse_pair(option, pair, register_op_names, &value);
    uint64_t entries = 0;
    if (parse_u64(at + 1, &entries) != 0 || entries == 0 || entries > 65536) {
        snprintf(message, sizeof message, "%s: bad ENTRIES '%s' (SQ entries of the ring, 1..65536)", option, at + 1);
        usage_error(message);
    }
    out->op = value.key;
    out->errno_value = value.value;
    out->entries = (unsigned long)entries;
}

static int parse_arguments(int argc, char **argv, struct launcher_rules *rules) {
    char message[256];
    memset(rules, 0, sizeof *rules);
    rules->timeout_ms = 120000;
    int index = 1;
    for (; index < argc; index++) {
        const char *option = argv[index];
        if (strcmp(option, "--") == 0) break;
        const char *value = index + 1 < argc ? argv[index + 1] : NULL;
        if (value != NULL && strcmp(value, "--") == 0) value = NULL;
        if (strcmp(option, "--errno") == 0) {
            if (rules->errno_rule_count >= MAX_RULES) usage_error("too many --errno rules");
            parse_pair(option, value, syscall_names, &rules->errno_rules[rules->errno_rule_count++]);
        } else if (strcmp(option, "--register-errno") == 0) {
            if (rules->register_rule_count >= MAX_RULES) usage_error("too many --register-errno rules");
            parse_pair(option, value, register_op_names,
                       &rules->register_rules[rules->register_rule_count++]);
        } else if (strcmp(option, "--kill") == 0) {
            unsigned long number;
            if (parse_value(value, syscall_names, 0, &number) != 0) {
                snprintf(message, sizeof message, "--kill: unknown syscall '%s'", value ? value : "");
                usage_error(message);
            }
            if (rules->kill_count >= MAX_RULES) usage_error("too many --kill rules");
            rules->kill_syscalls[rules->kill_count++] = number;
        } else if (strcmp(option, "--kill-register") == 0) {
            unsigned long op;
            if (parse_value(value, register_op_names, 0, &op) != 0 || op > UINT32_MAX) {
                snprintf(message, sizeof message,
                         "--kill-register: unknown io_uring_register opcode '%s' (a number or PBUF_RING)",
                         value ? value : "");
                usage_error(message);
            }
            if (rules->kill_register_count >= MAX_RULES) usage_error("too many --kill-register rules");
            rules->kill_register_ops[rules->kill_register_count++] = op;
        } else if (strcmp(option, "--mmap-errno") == 0) {
            if (rules->mmap_rule_count >= MAX_RULES) usage_error("too many --mmap-errno rules");
            parse_mmap_rule(option, value, &rules->mmap_rules[rules->mmap_rule_count++]);
        } else if (strcmp(option, "--register-errno-ring") == 0) {
            if (rules->ring_register_rule_count >= MAX_RULES) usage_error("too many --register-errno-ring rules");
            parse_ring_register_rule(option, value, &rules->ring_register_rules[rules->ring_register_rule_count++]);
        } else if (strcmp(option, "--enomem-above") == 0) {
            unsigned long number;
            if (parse_value(value, NULL, 0, &number) != 0 || number > UINT32_MAX) {
                snprintf(message, sizeof message, "--enomem-above needs a number of entries, got '%s'",
                         value ? value : "");
                usage_error(message);
            }
            rules->has_enomem_above = 1;
            rules->enomem_above = (uint32_t)number;
        } else if (strcmp(option, "--einval-setup-flags") == 0) {
            unsigned long mask;
            if (parse_value(value, setup_flag_names, 1, &mask) != 0 || mask == 0 || mask > UINT32_MAX) {
                snprintf(message, sizeof message,
                         "--einval-setup-flags needs a non-zero mask (0x100 or COOP_TASKRUN), got '%s'",
                         value ? value : "");
                usage_error(message);
            }
            rules->has_einval_flags = 1;
            rules->einval_flags_mask = (uint32_t)mask;
        } else if (strcmp(option, "--timeout-ms") == 0) {
            unsigned long number;
            if (parse_value(value, NULL, 0, &number) != 0 || number == 0 || number > 86400000UL) {
                snprintf(message, sizeof message, "--timeout-ms needs 1..86400000, got '%s'",
                         value ? value : "");
                usage_error(message);
            }
            rules->timeout_ms = (long)number;
        } else {
            snprintf(message, sizeof message, "unknown option '%s'", option);
            usage_error(message);
        }
        index++;
    }
    if (index >= argc) usage_error("missing '--' before the program");
    if (index + 1 >= argc) usage_error("missing the program after '--'");
    if (rules->errno_rule_count + rules->register_rule_count + rules->kill_count +
            rules->kill_register_count + rules->mmap_rule_count + rules->has_enomem_above + rules->has_einval_flags +
            rules->ring_register_rule_count == 0) {
        usage_error("no rule given");
    }
    return index + 1;
}

/* ---- filter assembly ---------------------------------------------------------------------- */

struct filter_builder {
    struct sock_filter code[MAX_FILTER];
    int length;
};

static void emit(struct filter_builder *builder, struct sock_filter instruction) {
    if (builder->length >= MAX_FILTER) usage_error("too many rules for one filter");
    builder->code[builder->length++] = instruction;
}

static void emit_stmt(struct filter_builder *b, uint16_t code, uint32_t k) {
    emit(b, (struct sock_filter)BPF_STMT(code, k));
}

/* if (A == k) fall through, else skip the next `skip` instructions */
static void emit_jne_skip(struct filter_builder *b, uint32_t k, uint8_t skip) {
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, skip));
}

#define ARG_LOW_OFFSET(n) ((uint32_t)(offsetof(struct seccomp_data, args) + (n) * sizeof(uint64_t)))
#define ARG_HIGH_OFFSET(n) (ARG_LOW_OFFSET(n) + (uint32_t)sizeof(uint32_t))
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the argument offsets assume a little-endian seccomp_data"
#endif

static void load_nr(struct filter_builder *b) {
    emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, nr));
}

/* A conditional jump to absolute instruction indexes (both after this one, at most 255 ahead). */
static void emit_jump_to(struct filter_builder *b, uint16_t code, uint32_t k, int true_at, int false_at) {
    int here = b->length;
    if (true_at <= here || false_at <= here || true_at - here - 1 > 255 || false_at - here - 1 > 255) {
        usage_error("internal: filter jump out of range");
    }
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | code | BPF_K, k, (uint8_t)(true_at - here - 1),
                                         (uint8_t)(false_at - here - 1)));
}

/*
 * mmap(..., length = args[1], ..., offset = args[5]) -> ERRNO when offset == rule offset (both
 * 32-bit halves) and, with a minimum, length >= min (high halves first, then the low halves).
 * Falls through to the next rule otherwise.
 */
static void emit_mmap_rule(struct filter_builder *b, const struct mmap_rule *rule) {
    const uint32_t offset_low = (uint32_t)rule->offset, offset_high = (uint32_t)(rule->offset >> 32);
    const uint32_t min_low = (uint32_t)rule->min_length, min_high = (uint32_t)(rule->min_length >> 32);
    const int start = b->length;
    const int refuse = start + (rule->has_min_length ? 11 : 6); /* the RET ERRNO instruction */
    const int next = refuse + 1;                                /* the first instruction after */
    load_nr(b);                                                              /* start + 0 */
    emit_jump_to(b, BPF_JEQ, (uint32_t)SYS_mmap, start + 2, next);           /* + 1 */
    emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, ARG_LOW_OFFSET(5));               /* + 2 */
    emit_jump_to(b, BPF_JEQ, offset_low, start + 4, next);                   /* + 3 */
    emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, ARG_HIGH_OFFSET(5));              /* + 4 */
    if (rule->has_min_length) {
        emit_jump_to(b, BPF_JEQ, offset_high, start + 6, next);              /* + 5 */
        emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, ARG_HIGH_OFFSET(1));          /* + 6 */
        emit_jump_to(b, BPF_JGT, min_high, refuse, start + 8);               /* + 7 */
        emit_jump_to(b, BPF_JEQ, min_high, start + 9, next);                 /* + 8 */
        emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, ARG_LOW_OFFSET(1));           /* + 9 */
        emit_jump_to(b, BPF_JGE, min_low, refuse, next);                     /* + 10 */
    } else {
        emit_jump_to(b, BPF_JEQ, offset_high, refuse, next);                 /* + 5 */
    }
    if (b->length != refuse) usage_error("internal: mmap rule length mismatch");
    emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (uint32_t)(rule->errno_value & SECCOMP_RET_DATA));
}

static void build_filter(const struct launcher_rules *rules, struct filter_builder *b) {
    b->length = 0;
    emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, arch));
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, LAUNCHER_AUDIT_ARCH, 1, 0));
    emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

    /* kill rules first: they win over everything else for that syscall */
    for (int i = 0; i < rules->kill_count; i++) {
        load_nr(b);
        emit_jne_skip(b, (uint32_t)rules->kill_syscalls[i], 1);
        emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    }
    for (int i = 0; i < rules->kill_register_count; i++) {
        load_nr(b);
        emit_jne_skip(b, NR_IO_URING_REGISTER, 3);
        emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, ARG_LOW_OFFSET(1));
        emit_jne_skip(b, (uint32_t)rules->kill_register_ops[i], 1);
        emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    }
    /* plain errno rules: every call of that syscall */
    for (int i = 0; i < rules->errno_rule_count; i++) {
        load_nr(b);
        emit_jne_skip(b, (uint32_t)rules->errno_rules[i].key, 1);
        emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (uint32_t)(rules->errno_rules[i].value & SECCOMP_RET_DATA));
    }
    /* io_uring_setup(entries > N) -> ENOMEM */
    if (rules->has_enomem_above) {
        load_nr(b);
        emit_jne_skip(b, NR_IO_URING_SETUP, 3);
        emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, ARG_LOW_OFFSET(0));
        emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, rules->enomem_above, 0, 1));
        emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOMEM);
    }
    /* io_uring_register(fd, OP, ...) -> ERRNO */
    for (int i = 0; i < rules->register_rule_count; i++) {
        load_nr(b);
        emit_jne_skip(b, NR_IO_URING_REGISTER, 3);
        emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, ARG_LOW_OFFSET(1));
        emit_jne_skip(b, (uint32_t)rules->register_rules[i].key, 1);
        emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (uint32_t)(rules->register_rules[i].value & SECCOMP_RET_DATA));
    }
    /* mmap at an offset (io_uring's ring regions) -> ERRNO */
    for (int i = 0; i < rules->mmap_rule_count; i++) emit_mmap_rule(b, &rules->mmap_rules[i]);
    /* io_uring_register(fd, OP) -> the supervisor looks at the ring behind fd */
    for (int i = 0; i < rules->ring_register_rule_count; i++) {
        load_nr(b);
        emit_jne_skip(b, NR_IO_URING_REGISTER, 3);
        emit_stmt(b, BPF_LD | BPF_W | BPF_ABS, ARG_LOW_OFFSET(1));
        emit_jne_skip(b, (uint32_t)rules->ring_register_rules[i].op, 1);
        emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    }
    /* io_uring_setup -> the supervisor looks at params.flags (a pointer BPF cannot follow) */
    if (rules->has_einval_flags) {
        load_nr(b);
        emit_jne_skip(b, NR_IO_URING_SETUP, 1);
        emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    }
    emit_stmt(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

/* Returns the listener fd (with NEW_LISTENER) or 0; exits 71 on failure. */
static int needs_supervisor(const struct launcher_rules *rules) {
    return rules->has_einval_flags || rules->ring_register_rule_count > 0;
}

static int install_filter(const struct launcher_rules *rules) {
    struct filter_builder builder;
    build_filter(rules, &builder);
    struct sock_fprog program = {.len = (unsigned short)builder.length, .filter = builder.code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fprintf(stderr, "seccomp-launcher: prctl(PR_SET_NO_NEW_PRIVS) failed: %s\n", strerror(errno));
        exit(EXIT_OSERR);
    }
    unsigned long flags = needs_supervisor(rules) ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long result = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
    if (result < 0) {
        fprintf(stderr, "seccomp-launcher: seccomp(SET_MODE_FILTER) failed: %s\n", strerror(errno));
        exit(EXIT_OSERR);
    }
    return (int)result;
}

/* ---- supervisor (user notification) --------------------------------------------------------- */

static long monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Reads params.flags of the trapped io_uring_setup from the caller's memory; -errno on failure. */
static int read_setup_flags(pid_t pid, uint64_t params_address, uint32_t *flags) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t got = pread(fd, flags, sizeof *flags, (off_t)(params_address + IO_URING_PARAMS_FLAGS_OFFSET));
    int saved = errno;
    close(fd);
    if (got != (ssize_t)sizeof *flags) return got < 0 ? -saved : -EIO;
    return 0;
}

/* SQ entries of the io_uring behind the caller's fd (SqMask + 1 in its fdinfo); 0 when not a ring. */
static unsigned long ring_sq_entries(pid_t pid, uint64_t fd) {
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%" PRIu64, (int)pid, fd);
    FILE *file = fopen(path, "re");
    if (file == NULL) return 0;
    char line[256];
    unsigned long entries = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        unsigned long mask = 0;
        if (sscanf(line, "SqMask: %lx", &mask) == 1) {
            entries = mask + 1;
            break;
        }
    }
    fclose(file);
    return entries;
}

static void answer_notification(int listener, const struct launcher_rules *rules) {
    struct seccomp_notif request;
    memset(&request, 0, sizeof request);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) return; /* caller gone, or EINTR */

    struct seccomp_notif_resp response;
    memset(&response, 0, sizeof response);
    response.id = request.id;
    response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (request.data.nr == NR_IO_URING_SETUP && rules->has_einval_flags) {
        uint32_t flags = 0;
        int read_result = read_setup_flags((pid_t)request.pid, request.data.args[1], &flags);
        /* the pid may have been reused between RECV and the read: only trust it if still valid */
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &request.id) != 0) return;
        if (read_result == 0 && (flags & rules->einval_flags_mask) != 0) {
            response.flags = 0;
            response.error = -EINVAL;
        } else if (read_result != 0) {
            response.flags = 0;
            response.error = -EFAULT; /* what the kernel would say for an unreadable params pointer */
        }
    } else if (request.data.nr == NR_IO_URING_REGISTER) {
        unsigned long entries = ring_sq_entries((pid_t)request.pid, request.data.args[0]);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &request.id) != 0) return;
        for (int i = 0; i < rules->ring_register_rule_count; i++) {
            const struct ring_register_rule *rule = &rules->ring_register_rules[i];
            if ((uint32_t)request.data.args[1] == (uint32_t)rule->op && entries == rule->entries) {
                response.flags = 0;
                response.error = -(int)rule->errno_value;
                break;
            }
        }
    }
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response); /* ENOENT: the caller went away */
}

static int exit_status_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return EXIT_OSERR;
}

static int supervise(pid_t child, int listener, const struct launcher_rules *rules) {
    long deadline = monotonic_ms() + rules->timeout_ms;
    for (;;) {
        int status = 0;
        pid_t waited = waitpid(child, &status, WNOHANG);
        if (waited == child) return exit_status_of(status);
        if (waited < 0 && errno != EINTR) {
            fprintf(stderr, "seccomp-launcher: waitpid failed: %s\n", strerror(errno));
            return EXIT_OSERR;
        }
        if (monotonic_ms() >= deadline) {
            fprintf(stderr, "seccomp-launcher: program still running after %ld ms; killed it\n",
                    rules->timeout_ms);
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            return EXIT_TIMEOUT;
        }
        struct pollfd watch = {.fd = listener, .events = POLLIN};
        int ready = poll(&watch, 1, 50);
        if (ready > 0 && (watch.revents & POLLIN)) answer_notification(listener, rules);
    }
}

static void exec_program(char **program_argv) {
    execvp(program_argv[0], program_argv);
    fprintf(stderr, "seccomp-launcher: cannot exec '%s': %s\n", program_argv[0], strerror(errno));
    _exit(EXIT_NOEXEC);
}

int main(int argc, char **argv) {
    struct launcher_rules rules;
    int program_index = parse_arguments(argc, argv, &rules);
    char **program_argv = &argv[program_index];

    if (!needs_supervisor(&rules)) {
        install_filter(&rules);
        exec_program(program_argv);
    }

    /* The supervisor installs the filter on itself too (then forks, so the child inherits it);
     * it never calls io_uring_setup, and its own ioctl/poll/waitpid are allowed. */
    int listener = install_filter(&rules);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "seccomp-launcher: fork failed: %s\n", strerror(errno));
        return EXIT_OSERR;
    }
    if (child == 0) {
        close(listener);
        /* die with the supervisor: nobody would answer our notifications */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != parent) _exit(EXIT_OSERR);
        exec_program(program_argv);
    }
    signal(SIGPIPE, SIG_IGN);
    int result = supervise(child, listener, &rules);
    close(listener);
    return result;
}
