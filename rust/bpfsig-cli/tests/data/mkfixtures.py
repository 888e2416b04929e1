#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the synthetic signed light-skeleton headers the bpfsig-cli tests use.

mkfixtures.py OUTDIR: a loader laid out as libbpf's gen_loader lays it out
(one map created, initialised and frozen, one tracing program loaded with an
attach target looked up by name), in two flavours:

- synth-inline.lskel.h: 7.2's inline metadata check, signed over the
  instructions only, signer named by key id without signed attributes (as
  7.2's bpftool signs);
- synth-kfunc.lskel.h: the series' bpf_loader_verify_metadata() check with
  the loader's own BTF, signed over the header format (header || insns ||
  btf), signer named by issuer and serial, with signed attributes;
- synth-interim.lskel.h: the same loader signed over the series' interim
  insns || btf (no header), which must not verify.

Signed with selftests/skel/keys/signing.key.pem through the openssl CLI.
The outputs are committed; rerun only to change them.
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../../.."))
KEYS = os.path.join(ROOT, "selftests/skel/keys")


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def ld64(dst, src, imm, imm2):
    return insn(0x18, dst, src, 0, imm) + insn(0, 0, 0, 0, imm2)


def blob_addr(dst, off):
    return ld64(dst, 6, 0, off)


def sys_bpf(cmd, attr, size):
    return (insn(0xb7, 1, imm=cmd) + blob_addr(2, attr) + insn(0xb7, 3, imm=size)
            + insn(0x85, imm=166) + insn(0xbf, 7, 0))


def rel_store(dst, src):
    return blob_addr(0, src) + blob_addr(1, dst) + insn(0x7b, 1, 0)


def blob2blob(dst, src):
    return blob_addr(2, src) + insn(0x61, 0, 2) + blob_addr(1, dst) + insn(0x63, 1, 0)


class Blob:
    def __init__(self):
        self.b = bytearray(320 * 4)  # fd_array

    def add(self, data):
        off = len(self.b)
        self.b += data
        self.b += bytes(-len(self.b) % 8)
        return off


def loader_btf():
    strs = b"\0int\0u32\0map\0hash\0hash__sz\0bpf_loader_verify_metadata\0"
    s = lambda n: strs.index(n + b"\0")
    t = b""
    t += struct.pack("<III", s(b"int"), 1 << 24, 4) + struct.pack("<I", (1 << 24) | 32)
    t += struct.pack("<III", s(b"u32"), 1 << 24, 4) + struct.pack("<I", 32)
    t += struct.pack("<III", 0, 2 << 24, 0)
    t += struct.pack("<III", 0, (13 << 24) | 3, 1)
    t += struct.pack("<II", s(b"map"), 3) + struct.pack("<II", s(b"hash"), 3)
    t += struct.pack("<II", s(b"hash__sz"), 2)
    t += struct.pack("<III", s(b"bpf_loader_verify_metadata"), (12 << 24) | 1, 4)
    hdr = struct.pack("<HBBIIIII", 0xeb9f, 1, 0, 24, 0, len(t), len(t), len(strs))
    return hdr + t + strs, 5


def words(h):
    return [struct.unpack("<Q", h[8 * i:8 * i + 8])[0] for i in range(4)]


def imm_pair(w):
    lo, hi = w & 0xffffffff, w >> 32
    return struct.unpack("<i", struct.pack("<I", lo))[0], struct.unpack("<i", struct.pack("<I", hi))[0]


def inline_check(h):
    c = ld64(1, 5, 0, 0) + insn(0x61, 2, 1, 32) + insn(0xb7, 7, imm=-22) + insn(0x55, 2, 0, -30, 1)
    for i, w in enumerate(words(h)):
        lo, hi = imm_pair(w)
        c += ld64(1, 5, 0, 0) + insn(0x79, 2, 1, 8 * i) + ld64(3, 0, lo, hi)
        c += insn(0xb7, 7, imm=-22) + insn(0x5d, 2, 3, -40)
    return c


def kfunc_check(h, func_id):
    c = b""
    for i, w in enumerate(words(h)):
        lo, hi = imm_pair(w)
        c += ld64(3, 0, lo, hi) + insn(0x7b, 10, 3, -96 + 8 * i)
    c += ld64(1, 5, 0, 0) + insn(0xbf, 2, 10) + insn(0x07, 2, imm=-96) + insn(0xb7, 3, imm=32)
    c += insn(0x85, 0, 3, 0, func_id) + insn(0xbf, 7, 0) + insn(0x56, 0, 0, -50, 0)
    return c


def build(kfunc):
    b = Blob()
    name16 = lambda n: n.encode().ljust(16, b"\0")
    map_attr = b.add(struct.pack("<IIIIIII", 2, 4, 8, 1, 0x480, 0, 0) + name16("counter.bss")
                     + bytes(72 - 44))
    value = b.add(struct.pack("<Q", 0x1122334455667788))
    key = b.add(bytes(4))
    upd = b.add(bytes(32))
    frz = b.add(bytes(4))
    lic = b.add(b"GPL\0")
    prog_insns = b.add(insn(0xb7, 0, imm=0) + insn(0x95))
    target = b.add(b"bpf_fentry_test1\0")
    pattr = bytearray(140)
    struct.pack_into("<II", pattr, 0, 26, 2)
    pattr[48:64] = name16("count")
    struct.pack_into("<I", pattr, 68, 24)
    prog_attr = b.add(bytes(pattr))
    data = bytes(b.b)
    h = hashlib.sha256(data).digest()
    btf, func_id = loader_btf()
    p = insn(0xbf, 6, 1)
    p += kfunc_check(h, func_id) if kfunc else inline_check(h)
    p += sys_bpf(0, map_attr, 72) + blob_addr(1, 0) + insn(0x63, 1, 7)
    p += blob2blob(upd, 0) + rel_store(upd + 8, key) + rel_store(upd + 16, value) + sys_bpf(2, upd, 32)
    p += blob2blob(frz, 0) + sys_bpf(22, frz, 4)
    p += rel_store(prog_attr + 16, lic) + rel_store(prog_attr + 8, prog_insns)
    p += blob_addr(1, target) + insn(0xb7, 2, imm=17) + insn(0xb7, 3, imm=12) + insn(0xb7, 4, imm=0)
    p += insn(0x85, imm=167) + insn(0xbf, 7, 0) + blob_addr(0, prog_attr) + insn(0x63, 0, 7, 108)
    p += sys_bpf(5, prog_attr, 140)
    p += insn(0xb7, 0, imm=0) + insn(0x95)
    return data, p, (btf if kfunc else None)


def literal(data):
    out, n = ['"\\\n'], 0
    for c in data:
        w = 4 if c else 2
        n += w
        if n > 78:
            out.append("\\\n")
            n = w
        out.append("\\x%02x" % c if c else "\\0")
    return "".join(out) + '"'


def sign(data, attrs, keyid):
    with tempfile.TemporaryDirectory() as d:
        src, sig = os.path.join(d, "in"), os.path.join(d, "sig")
        open(src, "wb").write(data)
        cmd = ["openssl", "cms", "-sign", "-binary", "-nosmimecap", "-outform", "DER", "-nocerts",
               "-signer", os.path.join(KEYS, "signing.crt.pem"),
               "-inkey", os.path.join(KEYS, "signing.key.pem"), "-md", "sha256", "-in", src, "-out", sig]
        if not attrs:
            cmd.append("-noattr")
        if keyid:
            cmd.append("-keyid")
        subprocess.run(cmd, check=True)
        return open(sig, "rb").read()


def header(name, data, insns, btf, sig):
    arrays = [("opts_data", data), ("opts_insn", insns)]
    if btf is not None:
        arrays.append(("opts_btf", btf))
    arrays += [("opts_sig", sig), ("opts_excl_hash", hashlib.sha256(insns).digest())]
    body = "".join("\tstatic const char %s[] __attribute__((__aligned__(8))) = %s;\n" % (n, literal(v))
                   for n, v in arrays)
    return ("/* synthetic signed light skeleton for bpfsig-cli tests (mkfixtures.py) */\n"
            "static inline int\n%s__load(struct %s *skel)\n{\n%s"
            "\topts.keyring_id = skel->keyring_id;\n}\n" % (name, name, body))


def main():
    out = sys.argv[1]
    data, insns, _ = build(False)
    sig = sign(insns, attrs=False, keyid=True)
    open(os.path.join(out, "synth-inline.lskel.h"), "w").write(header("synth", data, insns, None, sig))
    data, insns, btf = build(True)
    signed = b"\0BPFSIG\x01" + struct.pack("<II", len(insns), len(btf)) + insns + btf
    sig = sign(signed, attrs=True, keyid=False)
    open(os.path.join(out, "synth-kfunc.lskel.h"), "w").write(header("synth", data, insns, btf, sig))
    sig = sign(insns + btf, attrs=False, keyid=True)
    open(os.path.join(out, "synth-interim.lskel.h"), "w").write(header("synth", data, insns, btf, sig))


if __name__ == "__main__":
    main()
