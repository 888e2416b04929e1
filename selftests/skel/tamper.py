#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Flip one byte of one array of a generated light skeleton header.

tamper.py HEADER ARRAY OUT: ARRAY is opts_data, opts_insn or opts_btf, whose
bytes bpftool prints as "\\xNN" or "\\0" escapes. The byte flipped is chosen so the
result is still well formed where the kernel would otherwise refuse it for
another reason: for the BTF, a character of the last string (the kfunc's
name), so BPF_BTF_LOAD still accepts it and only the signature can notice.
"""
import re
import sys


def main() -> int:
    hdr, array, out = sys.argv[1:4]
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
    # middle of the data or instructions; third byte from the end of the BTF
    idx = len(escapes) - 3 if array == "opts_btf" else len(escapes) // 2
    e = escapes[idx]
    flipped = "\\x%02x" % (int(e.group(1) or "0", 16) ^ 0x01)
    body = body[:e.start()] + flipped + body[e.end():]
    open(out, "w", encoding="ascii").write(text[:m.start(1)] + body + text[m.end(1):])
    return 0


if __name__ == "__main__":
    sys.exit(main())
