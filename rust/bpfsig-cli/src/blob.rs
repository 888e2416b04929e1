// SPDX-License-Identifier: GPL-2.0
//! The programs and maps a loader creates, read from the `union bpf_attr`
//! images gen_loader stores in the data blob.
//!
//! gen_loader writes each `BPF_MAP_CREATE` / `BPF_PROG_LOAD` attr into the
//! blob with everything known at generation time, and emits instructions
//! that patch the rest at run time (fds, pointers into the blob, attach BTF
//! ids, values the skeleton's caller may set). [`crate::loader`] finds those
//! calls and stores; this module decodes the images (in native byte order,
//! the order of the BPF target) and says which fields are run-time values.

use std::collections::BTreeMap;

use crate::loader::{BlobStore, Loader, StoreSrc};
use crate::names;

/// `BPF_MAP_CREATE`.
pub const CMD_MAP_CREATE: i32 = 0;
/// `BPF_MAP_UPDATE_ELEM`.
pub const CMD_MAP_UPDATE_ELEM: i32 = 2;
/// `BPF_PROG_LOAD`.
pub const CMD_PROG_LOAD: i32 = 5;
/// `BPF_BTF_LOAD`.
pub const CMD_BTF_LOAD: i32 = 18;
/// `BPF_MAP_FREEZE`.
pub const CMD_MAP_FREEZE: i32 = 22;

/// Offsets in `union bpf_attr` (include/uapi/linux/bpf.h).
mod attr {
    pub const MAP_TYPE: u32 = 0;
    pub const KEY_SIZE: u32 = 4;
    pub const VALUE_SIZE: u32 = 8;
    pub const MAX_ENTRIES: u32 = 12;
    pub const MAP_FLAGS: u32 = 16;
    pub const MAP_NAME: u32 = 28;
    pub const EXCL_PROG_HASH: u32 = 80;
    pub const EXCL_PROG_HASH_SIZE: u32 = 88;
    pub const PROG_TYPE: u32 = 0;
    pub const INSN_CNT: u32 = 4;
    pub const INSNS: u32 = 8;
    pub const LICENSE: u32 = 16;
    pub const PROG_FLAGS: u32 = 44;
    pub const PROG_NAME: u32 = 48;
    pub const EXPECTED_ATTACH_TYPE: u32 = 68;
    pub const ATTACH_BTF_ID: u32 = 108;
    pub const CORE_RELO_CNT: u32 = 116;
    pub const MAP_FD: u32 = 0;
    pub const UPDATE_VALUE: u32 = 16;
    pub const BTF_SIZE: u32 = 16;
    /// `BPF_OBJ_NAME_LEN`.
    pub const NAME_LEN: usize = 16;
}

/// Programs and maps read, and notes kept: far above what gen_loader emits
/// (its loader stack holds 32 programs, its fd_array 64 maps), low enough to
/// bound a hostile header's report.
const MAX_OBJECTS: usize = 1024;
const MAX_NOTES: usize = 32;

/// Longest attach target name read from the blob (`KSYM_NAME_LEN`).
const MAX_TARGET_NAME: usize = 512;

/// A byte range of the blob.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Region {
    /// Offset in the blob.
    pub off: u32,
    /// Length.
    pub len: u32,
}

impl Region {
    /// The bytes, if the region lies inside the blob.
    pub fn of<'a>(&self, blob: &'a [u8]) -> Option<&'a [u8]> {
        let start = usize::try_from(self.off).ok()?;
        let end = start.checked_add(usize::try_from(self.len).ok()?)?;
        blob.get(start..end)
    }
}

/// A program the loader loads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    /// `prog_name`.
    pub name: String,
    /// `prog_type`.
    pub prog_type: u32,
    /// `expected_attach_type`.
    pub attach_type: u32,
    /// `insn_cnt`.
    pub insn_cnt: u32,
    /// `prog_flags`.
    pub prog_flags: u32,
    /// `core_relo_cnt`: CO-RE relocations the kernel applies.
    pub core_relo_cnt: u32,
    /// The target the loader looks up by name at run time and stores as
    /// `attach_btf_id`, if it does.
    pub attach_target: Option<String>,
    /// `attach_btf_id` as stored in the blob when nothing patches it.
    pub attach_btf_id: u32,
    /// The license string, if its pointer is set from the blob.
    pub license: Option<String>,
    /// The attr image.
    pub attr: Region,
    /// The program's instructions in the blob (before the loader's run-time
    /// relocations of map fds and kfunc ids).
    pub insns: Option<Region>,
}

/// A map the loader creates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Map {
    /// `map_name`.
    pub name: String,
    /// `map_type`.
    pub map_type: u32,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries` in the blob.
    pub max_entries: u32,
    /// The skeleton's caller can set `max_entries` at run time.
    pub max_entries_runtime: bool,
    /// `map_flags`.
    pub map_flags: u32,
    /// The loader freezes it (`BPF_MAP_FREEZE`).
    pub frozen: bool,
    /// The attr carries a 32-byte `excl_prog_hash`.
    pub exclusive: bool,
    /// An inner-map template (not one of the skeleton's maps).
    pub inner: bool,
    /// The attr image.
    pub attr: Region,
    /// The initial value the loader writes, when it is in the blob.
    pub initial_value: Option<Region>,
    /// The loader overwrites that value with the skeleton caller's at run
    /// time (unsigned loaders; a signed one keeps the signed blob's).
    pub initial_value_runtime: bool,
}

/// What the blob tells about the loader's work.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// Programs in load order.
    pub programs: Vec<Program>,
    /// Maps in creation order.
    pub maps: Vec<Map>,
    /// Sizes of the BTF objects the loader loads (`BPF_BTF_LOAD`).
    pub btf_loads: Vec<u32>,
    /// Things the reader could not determine, in words.
    pub notes: Vec<String>,
}

fn u32_at(blob: &[u8], base: u32, off: u32) -> Option<u32> {
    let start = usize::try_from(base.checked_add(off)?).ok()?;
    let b = blob.get(start..start.checked_add(4)?)?;
    Some(u32::from_ne_bytes(b.try_into().ok()?))
}

/// A NUL-terminated name of at most `max` bytes, printable ASCII only
/// (anything else is escaped so that a header cannot inject terminal codes).
fn c_str(blob: &[u8], off: u32, max: usize) -> Option<String> {
    let tail = blob.get(usize::try_from(off).ok()?..)?;
    let tail = tail.get(..max).unwrap_or(tail);
    let end = tail.iter().position(|&c| c == 0).unwrap_or(tail.len());
    Some(names::printable(tail.get(..end)?))
}

/// Stores considered per blob offset: gen_loader writes each attr field
/// once or twice; the bound keeps a hostile loader's work linear.
const MAX_STORES_PER_DST: usize = 16;

/// The loader's stores, by destination offset (in program order).
struct StoreIndex<'a> {
    by_dst: BTreeMap<u32, Vec<&'a BlobStore>>,
}

impl<'a> StoreIndex<'a> {
    fn new(l: &'a Loader) -> Self {
        let mut by_dst: BTreeMap<u32, Vec<&BlobStore>> = BTreeMap::new();
        for s in &l.stores {
            let v = by_dst.entry(s.dst).or_default();
            if v.len() < MAX_STORES_PER_DST {
                v.push(s);
            }
        }
        Self { by_dst }
    }

    fn to(&self, dst: u32) -> impl Iterator<Item = &'a BlobStore> + '_ {
        self.by_dst.get(&dst).into_iter().flatten().copied()
    }
}

/// Decodes the blob's attr images as `l` found them.
pub fn decode(blob: &[u8], l: &Loader) -> Contents {
    let mut c = Contents::default();
    let mut slots = Vec::new();
    let mut uses = Vec::new();
    let idx = StoreIndex::new(l);
    let stores_to = |dst: u32| idx.to(dst);
    for (n, call) in l.sys_bpf.iter().enumerate() {
        let a = call.attr_off;
        let region = Region {
            off: a,
            len: u32::try_from(call.attr_size).unwrap_or(0),
        };
        if region.of(blob).is_none() {
            note(
                &mut c,
                format!(
                    "sys_bpf call at insn {} has its attr outside the blob",
                    call.insn
                ),
            );
            continue;
        }
        if c.programs.len().max(c.maps.len()) >= MAX_OBJECTS {
            note(
                &mut c,
                format!("more than {MAX_OBJECTS} programs or maps: the rest is not read"),
            );
            break;
        }
        let next_call = l
            .sys_bpf
            .get(n.saturating_add(1))
            .map_or(usize::MAX, |s| s.insn);
        match call.cmd {
            CMD_PROG_LOAD => c
                .programs
                .push(program(blob, l, &idx, a, region, call.insn)),
            CMD_MAP_CREATE => {
                // The stores between this call and the next: disjoint
                // ranges, so linear over all calls.
                let from = l.stores.partition_point(|s| s.insn <= call.insn);
                let fd_slot = l
                    .stores
                    .get(from..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|s| s.insn < next_call)
                    .find(|s| s.src == StoreSrc::Result)
                    .map(|s| s.dst);
                let mut m = map(blob, a, region);
                m.max_entries_runtime = stores_to(a.saturating_add(attr::MAX_ENTRIES))
                    .any(|s| s.src == StoreSrc::Other);
                m.inner = fd_slot.is_none();
                c.maps.push(m);
                slots.push(fd_slot);
            }
            CMD_MAP_FREEZE | CMD_MAP_UPDATE_ELEM => {
                // map_fd is at offset 0 for both commands.
                let fd_src = stores_to(a.saturating_add(attr::MAP_FD)).find_map(|s| match s.src {
                    StoreSrc::BlobValue(p) => Some(p),
                    _ => None,
                });
                let value =
                    stores_to(a.saturating_add(attr::UPDATE_VALUE)).find_map(|s| match s.src {
                        StoreSrc::BlobAddr(p) => Some(p),
                        _ => None,
                    });
                uses.push(FdUse {
                    cmd: call.cmd,
                    fd_src,
                    value,
                });
            }
            CMD_BTF_LOAD => c
                .btf_loads
                .push(u32_at(blob, a, attr::BTF_SIZE).unwrap_or(0)),
            _ => {}
        }
    }
    resolve_fd_uses(&mut c, &slots, &uses);
    let runtime: std::collections::BTreeSet<u32> = l.runtime_values.iter().copied().collect();
    for m in &mut c.maps {
        m.initial_value_runtime = m.initial_value.is_some_and(|r| runtime.contains(&r.off));
    }
    c
}

/// Adds a note, up to [`MAX_NOTES`], once each.
fn note(c: &mut Contents, n: String) {
    if c.notes.len() < MAX_NOTES && !c.notes.contains(&n) {
        c.notes.push(n);
    }
}

/// Matches `BPF_MAP_FREEZE` / `BPF_MAP_UPDATE_ELEM` calls to the maps whose
/// fd slot in the blob they read.
fn resolve_fd_uses(c: &mut Contents, slots: &[Option<u32>], uses: &[FdUse]) {
    let mut by_slot = BTreeMap::new();
    for (i, s) in slots.iter().enumerate() {
        if let Some(s) = s {
            by_slot.entry(*s).or_insert(i);
        }
    }
    for u in uses {
        let Some(&idx) = u.fd_src.and_then(|src| by_slot.get(&src)) else {
            c.notes.push(format!(
                "a {} call names a map the reader cannot match",
                names::cmd(u.cmd)
            ));
            continue;
        };
        let Some(m) = c.maps.get_mut(idx) else {
            continue;
        };
        if u.cmd == CMD_MAP_FREEZE {
            m.frozen = true;
        } else if let Some(off) = u.value {
            m.initial_value = Some(Region {
                off,
                len: m.value_size,
            });
        }
    }
}

/// A call that names a map by the blob slot holding its fd.
struct FdUse {
    cmd: i32,
    fd_src: Option<u32>,
    value: Option<u32>,
}

fn program(
    blob: &[u8],
    l: &Loader,
    idx: &StoreIndex<'_>,
    a: u32,
    attr_region: Region,
    call_insn: usize,
) -> Program {
    let get = |off| u32_at(blob, a, off).unwrap_or(0);
    let name_at = a.saturating_add(attr::PROG_NAME);
    let addr_of = |field: u32| {
        idx.to(a.saturating_add(field))
            .filter(|s| s.insn < call_insn)
            .find_map(|s| match s.src {
                StoreSrc::BlobAddr(p) => Some(p),
                _ => None,
            })
    };
    let insn_cnt = get(attr::INSN_CNT);
    let insns = addr_of(attr::INSNS).map(|off| Region {
        off,
        len: insn_cnt.saturating_mul(8),
    });
    let license = addr_of(attr::LICENSE).and_then(|off| c_str(blob, off, 128));
    // The attach target: the name looked up last before its result is
    // stored into this attr's attach_btf_id.
    let attach_target = idx
        .to(a.saturating_add(attr::ATTACH_BTF_ID))
        .find(|s| s.src == StoreSrc::Result && s.insn < call_insn)
        .and_then(|s| {
            let before = l.lookups.partition_point(|k| k.insn < s.insn);
            l.lookups.get(before.checked_sub(1)?)
        })
        .and_then(|k| {
            let len = usize::try_from(k.len).ok()?.min(MAX_TARGET_NAME);
            c_str(blob, k.name_off, len)
        });
    Program {
        name: c_str(blob, name_at, attr::NAME_LEN).unwrap_or_default(),
        prog_type: get(attr::PROG_TYPE),
        attach_type: get(attr::EXPECTED_ATTACH_TYPE),
        insn_cnt,
        prog_flags: get(attr::PROG_FLAGS),
        core_relo_cnt: get(attr::CORE_RELO_CNT),
        attach_target,
        attach_btf_id: get(attr::ATTACH_BTF_ID),
        license,
        attr: attr_region,
        insns,
    }
}

fn map(blob: &[u8], a: u32, attr_region: Region) -> Map {
    let get = |off| u32_at(blob, a, off).unwrap_or(0);
    let has_excl = attr_region.len >= attr::EXCL_PROG_HASH_SIZE.saturating_add(4);
    Map {
        name: c_str(blob, a.saturating_add(attr::MAP_NAME), attr::NAME_LEN).unwrap_or_default(),
        map_type: get(attr::MAP_TYPE),
        key_size: get(attr::KEY_SIZE),
        value_size: get(attr::VALUE_SIZE),
        max_entries: get(attr::MAX_ENTRIES),
        map_flags: get(attr::MAP_FLAGS),
        exclusive: has_excl
            && (get(attr::EXCL_PROG_HASH) != 0 || get(attr::EXCL_PROG_HASH.saturating_add(4)) != 0),
        attr: attr_region,
        ..Map::default()
    }
}
