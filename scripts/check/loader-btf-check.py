#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""SPEC §6: the loader BTF that libbpf's gen_loader wrote into each signed
light skeleton (`opts_btf`, made with libbpf's own btf__add_*() writer) has
the types and strings of the Rust reference (`LOADER_BTF` in
rust/bpfsig/resolve/vectors.rs, checked against bpfsig-testkit by the host
tests), and the header only differs in its length (7.2's header is longer).

  loader-btf-check.py [--big-endian] HEADER...   (--big-endian: of bpfeb objects)
"""
import re
import struct
import sys


def c_string(header, name):
    """The bytes of `static const char NAME[] = "...";` in a skeleton."""
    m = re.search(r'\b%s\[\][^=]*=\s*"((?:[^"\\]|\\.|\\\n)*)"' % re.escape(name), header)
    if not m:
        return None
    body = m.group(1).replace("\\\n", "")
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(ord(c))
            i += 1
            continue
        e = body[i + 1]
        if e == "x":
            h = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2:]).group(0)
            out.append(int(h, 16))
            i += 2 + len(h)
        elif e in "01234567":
            o = re.match(r"[0-7]{1,3}", body[i + 1:]).group(0)
            out.append(int(o, 8))
            i += 1 + len(o)
        else:
            out.append({"n": 10, "t": 9, "r": 13, "\\": 92, '"': 34, "'": 39}[e])
            i += 2
    return bytes(out)


def sections(btf, order):
    """(types, strings) of a BTF blob in byte order `order` ("<" or ">"),
    the types as little-endian bytes (every field of a BTF type and of what
    follows it is a 32-bit word)."""
    magic, _ver, _flags, hdr_len = struct.unpack_from(order + "HBBI", btf, 0)
    if magic != 0xEB9F:
        raise ValueError("BTF not in the expected byte order")
    type_off, type_len, str_off, str_len = struct.unpack_from(order + "IIII", btf, 8)
    if btf[24:hdr_len].strip(b"\0"):
        raise ValueError("header fields past the 7.2 ones are not zero")
    types = btf[hdr_len + type_off:hdr_len + type_off + type_len]
    words = struct.unpack(order + "%dI" % (len(types) // 4), types)
    return (struct.pack("<%dI" % len(words), *words),
            btf[hdr_len + str_off:hdr_len + str_off + str_len])


def main():
    testvec = open(sys.path[0] + "/../../rust/bpfsig/resolve/vectors.rs").read()
    arr = re.search(r"LOADER_BTF: \[u8; \d+\] = \[(.*?)\];", testvec, re.S).group(1)
    arr = re.sub(r"//[^\n]*", "", arr)
    want = sections(bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", arr)), "<")
    args = sys.argv[1:]
    order = "<"
    if args[:1] == ["--big-endian"]:
        order, args = ">", args[1:]
    for path in args:
        btf = c_string(open(path).read(), "opts_btf")
        if btf is None:
            sys.exit(f"{path}: no opts_btf")
        got = sections(btf, order)
        if got != want:
            sys.exit(f"{path}: the loader BTF libbpf wrote differs from the Rust reference:\n"
                     f"  types   {got[0].hex()}\n  want    {want[0].hex()}\n"
                     f"  strings {got[1]!r}\n  want    {want[1]!r}")
    print(f"loader BTF: {len(args)} {'big-endian ' if order == '>' else ''}skeletons "
          "carry the reference types and strings")


if __name__ == "__main__":
    main()
