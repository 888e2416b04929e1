#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Flip one byte of one array of a generated light skeleton header.

tamper.py HEADER ARRAY OUT: ARRAY is opts_data, opts_insn, opts_btf or
opts_btf_magic (the BTF's first byte: BPF_BTF_LOAD refuses it), whose
bytes bpftool prints as "\\xNN" or "\\0" escapes. The byte flipped is chosen so the
result is still well formed where the kernel would otherwise refuse it for
another reason: in the data blob, a byte nothing but the metadata check
reads; in the BTF, a character of the last string (the kfunc's name), so
BPF_BTF_LOAD still accepts it and only the signature can notice.
"""
import re
import sys


def main() -> int:
    hdr, array, out = sys.argv[1:4]
    magic = array == "opts_btf_magic"
    if magic:
        array = "opts_btf"
    text = open(hdr, encoding="ascii").read()
    m = re.search(r"static const char %s\[\][^=]*= \"\\\n(.*?)\";" % re.escape(array),
                  text, re.S)
    if not m:
        print(f"{hdr}: no {array}", file=sys.stderr)
        return 1
    body = m.group(1)
    escapes = list(re.finditer(r"\\(?:x([0-9a-f]{2})|0)", body))
    if len(escapes) < 8:
        print(f"{hdr}: {array} is too short", file=sys.stderr)
        return 1
    # The data blob starts with the loader's fd_array scratch (MAX_FD_ARRAY_SZ
    # ints); its last slot is read by nothing, so only the metadata check
    # can notice a change there. The middle of the instructions. A
    # lower-case letter of the BTF's last string, the kfunc's name.
    if array == "opts_data":
        idx = 4 * (64 + 256 - 1)
    elif magic:
        idx = 0
    elif array == "opts_btf":
        idx = len(escapes) - 3
    else:
        idx = len(escapes) // 2
    if idx >= len(escapes):
        print(f"{hdr}: {array} is too short", file=sys.stderr)
        return 1
    e = escapes[idx]
    if array == "opts_btf" and not magic and not (e.group(1) and 0x61 <= int(e.group(1), 16) <= 0x7a):
        print(f"{hdr}: the BTF does not end with the kfunc's name", file=sys.stderr)
        return 1
    flipped = "\\x%02x" % (int(e.group(1) or "0", 16) ^ 0x01)
    body = body[:e.start()] + flipped + body[e.end():]
    open(out, "w", encoding="ascii").write(text[:m.start(1)] + body + text[m.end(1):])
    return 0


if __name__ == "__main__":
    sys.exit(main())
