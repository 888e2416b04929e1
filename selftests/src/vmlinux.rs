// SPDX-License-Identifier: GPL-2.0
//! Lookups in the running kernel's BTF, read with bpfsig-core's own reader.

use bpfsig_core::btf::{index_len, Btf, Kind, TypeTable};

pub struct Vmlinux {
    data: Vec<u8>,
    index: Vec<u32>,
}

impl Vmlinux {
    pub fn load() -> Result<Self, String> {
        let data =
            std::fs::read("/sys/kernel/btf/vmlinux").map_err(|e| format!("vmlinux BTF: {e}"))?;
        let n = index_len(&data).map_err(|e| format!("vmlinux BTF: {e:?}"))?;
        Ok(Self {
            data,
            index: vec![0; n],
        })
    }

    fn with<R>(&mut self, f: impl FnOnce(&Btf<'_>) -> R) -> R {
        let btf = Btf::parse(&self.data, &mut self.index).expect("parsed once already");
        f(&btf)
    }

    /// Id of the type of `kind` named `name`.
    pub fn find(&mut self, kind: Kind, name: &str) -> Option<u32> {
        self.with(|b| {
            b.types()
                .find(|(_, t)| {
                    t.kind == kind && b.name_by_offset(t.name_off) == Ok(name.as_bytes())
                })
                .map(|(id, _)| id)
        })
    }

    /// Byte offset of `member` in struct `name`.
    pub fn member_offset(&mut self, name: &str, member: &str) -> Option<i16> {
        let id = self.find(Kind::Struct, name)?;
        self.with(|b| {
            let t = b.type_by_id(id).ok()?;
            t.extra.chunks_exact(12).find_map(|m| {
                let name_off = u32::from_ne_bytes(m[0..4].try_into().ok()?);
                let off = u32::from_ne_bytes(m[8..12].try_into().ok()?);
                let bits = if t.kflag { off & 0x00ff_ffff } else { off };
                (b.name_by_offset(name_off) == Ok(member.as_bytes())).then_some((bits / 8) as i16)
            })
        })
    }
}
