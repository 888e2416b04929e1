// SPDX-License-Identifier: GPL-2.0
//! Names for the UAPI numbers a report shows (include/uapi/linux/bpf.h of
//! Linux 7.2), and escaping of names taken from untrusted input.

/// The enum's name for `v`, or the number when it has none (a newer kernel's
/// value, or garbage: shown, never guessed).
fn lookup(table: &[&str], v: u32) -> String {
    match usize::try_from(v).ok().and_then(|i| table.get(i)) {
        Some(n) if !n.is_empty() => (*n).to_owned(),
        _ => format!("unknown({v})"),
    }
}

/// `enum bpf_prog_type` without its prefix.
pub fn prog_type(v: u32) -> String {
    lookup(PROG_TYPES, v)
}

/// `enum bpf_map_type` without its prefix.
pub fn map_type(v: u32) -> String {
    lookup(MAP_TYPES, v)
}

/// `enum bpf_attach_type` without its prefix.
pub fn attach_type(v: u32) -> String {
    lookup(ATTACH_TYPES, v)
}

/// `enum bpf_cmd` for the commands a loader issues.
pub fn cmd(v: i32) -> String {
    match v {
        0 => "BPF_MAP_CREATE".into(),
        2 => "BPF_MAP_UPDATE_ELEM".into(),
        5 => "BPF_PROG_LOAD".into(),
        18 => "BPF_BTF_LOAD".into(),
        22 => "BPF_MAP_FREEZE".into(),
        _ => format!("bpf cmd {v}"),
    }
}

const MAP_FLAGS: &[&str] = &[
    "NO_PREALLOC",
    "NO_COMMON_LRU",
    "NUMA_NODE",
    "RDONLY",
    "WRONLY",
    "STACK_BUILD_ID",
    "ZERO_SEED",
    "RDONLY_PROG",
    "WRONLY_PROG",
    "CLONE",
    "MMAPABLE",
    "PRESERVE_ELEMS",
    "INNER_MAP",
    "LINK",
    "PATH_FD",
    "VTYPE_BTF_OBJ_FD",
    "TOKEN_FD",
    "SEGV_ON_FAULT",
    "NO_USER_CONV",
    "RB_OVERWRITE",
];

const PROG_FLAGS: &[&str] = &[
    "STRICT_ALIGNMENT",
    "ANY_ALIGNMENT",
    "TEST_RND_HI32",
    "TEST_STATE_FREQ",
    "SLEEPABLE",
    "XDP_HAS_FRAGS",
    "XDP_DEV_BOUND_ONLY",
    "TEST_REG_INVARIANTS",
];

fn flags(table: &[&str], v: u32) -> Vec<String> {
    (0..32u32)
        .filter(|b| v & (1u32 << b) != 0)
        .map(
            |b| match usize::try_from(b).ok().and_then(|i| table.get(i)) {
                Some(n) => format!("BPF_F_{n}"),
                None => format!("bit{b}"),
            },
        )
        .collect()
}

/// `BPF_MAP_CREATE` flag names.
pub fn map_flags(v: u32) -> Vec<String> {
    flags(MAP_FLAGS, v)
}

/// `BPF_PROG_LOAD` flag names (bits this table does not know, such as a
/// newer kernel's, are shown as `bitN`).
pub fn prog_flags(v: u32) -> Vec<String> {
    flags(PROG_FLAGS, v)
}

/// Printable ASCII as is; anything else as `\xNN`, so that a header cannot
/// put terminal control codes into a report.
pub fn printable(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7f).contains(&c) && c != b'\\' {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

const PROG_TYPES: &[&str] = &[
    "unspec",
    "socket_filter",
    "kprobe",
    "sched_cls",
    "sched_act",
    "tracepoint",
    "xdp",
    "perf_event",
    "cgroup_skb",
    "cgroup_sock",
    "lwt_in",
    "lwt_out",
    "lwt_xmit",
    "sock_ops",
    "sk_skb",
    "cgroup_device",
    "sk_msg",
    "raw_tracepoint",
    "cgroup_sock_addr",
    "lwt_seg6local",
    "lirc_mode2",
    "sk_reuseport",
    "flow_dissector",
    "cgroup_sysctl",
    "raw_tracepoint_writable",
    "cgroup_sockopt",
    "tracing",
    "struct_ops",
    "ext",
    "lsm",
    "sk_lookup",
    "syscall",
    "netfilter",
];
const MAP_TYPES: &[&str] = &[
    "unspec",
    "hash",
    "array",
    "prog_array",
    "perf_event_array",
    "percpu_hash",
    "percpu_array",
    "stack_trace",
    "cgroup_array",
    "lru_hash",
    "lru_percpu_hash",
    "lpm_trie",
    "array_of_maps",
    "hash_of_maps",
    "devmap",
    "sockmap",
    "cpumap",
    "xskmap",
    "sockhash",
    "cgroup_storage",
    "reuseport_sockarray",
    "percpu_cgroup_storage",
    "queue",
    "stack",
    "sk_storage",
    "devmap_hash",
    "struct_ops",
    "ringbuf",
    "inode_storage",
    "task_storage",
    "bloom_filter",
    "user_ringbuf",
    "cgrp_storage",
    "arena",
    "insn_array",
    "rhash",
];
const ATTACH_TYPES: &[&str] = &[
    "cgroup_inet_ingress",
    "cgroup_inet_egress",
    "cgroup_inet_sock_create",
    "cgroup_sock_ops",
    "sk_skb_stream_parser",
    "sk_skb_stream_verdict",
    "cgroup_device",
    "sk_msg_verdict",
    "cgroup_inet4_bind",
    "cgroup_inet6_bind",
    "cgroup_inet4_connect",
    "cgroup_inet6_connect",
    "cgroup_inet4_post_bind",
    "cgroup_inet6_post_bind",
    "cgroup_udp4_sendmsg",
    "cgroup_udp6_sendmsg",
    "lirc_mode2",
    "flow_dissector",
    "cgroup_sysctl",
    "cgroup_udp4_recvmsg",
    "cgroup_udp6_recvmsg",
    "cgroup_getsockopt",
    "cgroup_setsockopt",
    "trace_raw_tp",
    "trace_fentry",
    "trace_fexit",
    "modify_return",
    "lsm_mac",
    "trace_iter",
    "cgroup_inet4_getpeername",
    "cgroup_inet6_getpeername",
    "cgroup_inet4_getsockname",
    "cgroup_inet6_getsockname",
    "xdp_devmap",
    "cgroup_inet_sock_release",
    "xdp_cpumap",
    "sk_lookup",
    "xdp",
    "sk_skb_verdict",
    "sk_reuseport_select",
    "sk_reuseport_select_or_migrate",
    "perf_event",
    "trace_kprobe_multi",
    "lsm_cgroup",
    "struct_ops",
    "netfilter",
    "tcx_ingress",
    "tcx_egress",
    "trace_uprobe_multi",
    "cgroup_unix_connect",
    "cgroup_unix_sendmsg",
    "cgroup_unix_recvmsg",
    "cgroup_unix_getpeername",
    "cgroup_unix_getsockname",
    "netkit_primary",
    "netkit_peer",
    "trace_kprobe_session",
    "trace_uprobe_session",
    "trace_fsession",
    "trace_fentry_multi",
    "trace_fexit_multi",
    "trace_fsession_multi",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(prog_type(26), "tracing");
        assert_eq!(prog_type(29), "lsm");
        assert_eq!(prog_type(31), "syscall");
        assert_eq!(map_type(2), "array");
        assert_eq!(map_type(19), "cgroup_storage");
        assert_eq!(map_type(9999), "unknown(9999)");
        assert_eq!(attach_type(24), "trace_fentry");
        assert_eq!(map_flags(0x480), ["BPF_F_RDONLY_PROG", "BPF_F_MMAPABLE"]);
        assert_eq!(prog_flags(1 << 30), ["bit30"]);
        assert_eq!(printable(b"a\x1b[0m\\"), "a\\x1b[0m\\x5c");
    }
}
