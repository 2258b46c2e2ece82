#!/usr/bin/python3
"""Payloads across two versions of one generated message (python3-protobuf).

Old and new classes share a package and a message name, so each side runs
in its own process (one descriptor pool each):

  proto-compat.py write DIR MODULE MESSAGE PREFIX
      fill every field of MESSAGE (from DIR/MODULE_pb2.py) with a value
      derived from its number; write PREFIX.bin (binary), PREFIX.json
      (JSON mapping) and PREFIX.values (what was written, by field number)
  proto-compat.py read DIR MODULE MESSAGE PREFIX OUT
      decode PREFIX.bin and PREFIX.json with this side's classes; write
      OUT.values / OUT.json-values (what was read, by number, and the
      numbers this side knows) and OUT.bin (the decoded message serialized
      again, unknown fields included)
  proto-compat.py same WRITTEN.values READ.values
      every field the reader knows reads as written; the reader sees
      nothing that was not written
  proto-compat.py again DIR MODULE MESSAGE PREFIX BIN
      BIN (a payload the other side decoded and wrote again) decodes here
      to exactly PREFIX.values: fields the other side did not know survive
Exit status 1 with a message on a mismatch.
"""
import importlib
import json
import sys

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor as FD

INTS = (FD.TYPE_INT32, FD.TYPE_INT64, FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_SINT32,
        FD.TYPE_SINT64)


def load(directory, module, message):
    sys.path.insert(0, directory)
    mod = importlib.import_module(module.replace("/", "."))
    return getattr(mod, message)


def scalar(field, i, json_mode):
    n = field.number + i
    if field.type in INTS:
        return 1000 + n
    if field.type == FD.TYPE_BOOL:
        return True
    if field.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return 0.5 + n
    if field.type == FD.TYPE_STRING:
        return "v%d" % n
    if field.type == FD.TYPE_BYTES:
        return b"b%d" % n
    if field.type == FD.TYPE_ENUM:
        # Binary: the highest number this side knows (a value the other side
        # may not know); JSON: the first label, since a JSON reader refuses
        # names it does not know (protobuf's rule, not ours).
        return 1 if json_mode else max(v.number for v in field.enum_type.values)
    raise SystemExit("field %s: type %d not covered" % (field.name, field.type))


def fill(msg, json_mode):
    for field in msg.DESCRIPTOR.fields:
        if field.type == FD.TYPE_MESSAGE:  # google.protobuf.Timestamp
            count = 2 if field.label == FD.LABEL_REPEATED else 1
            for i in range(count):
                ts = getattr(msg, field.name).add() if count == 2 else getattr(msg, field.name)
                ts.seconds = 1700000000 + field.number + i
        elif field.label == FD.LABEL_REPEATED:
            getattr(msg, field.name).extend(scalar(field, i, json_mode) for i in range(2))
        else:
            setattr(msg, field.name, scalar(field, 0, json_mode))


def plain(field, value):
    if field.type == FD.TYPE_MESSAGE:
        return value.ToJsonString()
    if isinstance(value, bytes):
        return value.hex()
    return value


def values(msg):
    out = {}
    for field, value in msg.ListFields():
        if field.label == FD.LABEL_REPEATED:
            out[str(field.number)] = [plain(field, v) for v in value]
        else:
            out[str(field.number)] = plain(field, value)
    return {"known": sorted(f.number for f in msg.DESCRIPTOR.fields), "values": out}


def main(argv):
    mode = argv[1]
    if mode == "write":
        cls = load(argv[2], argv[3], argv[4])
        prefix = argv[5]
        binary, text = cls(), cls()
        fill(binary, False)
        fill(text, True)
        with open(prefix + ".bin", "wb") as f:
            f.write(binary.SerializeToString())
        with open(prefix + ".json", "w") as f:
            f.write(json_format.MessageToJson(text))
        with open(prefix + ".values", "w") as f:
            json.dump(values(binary), f)
        with open(prefix + ".json-values", "w") as f:
            json.dump(values(text), f)
    elif mode == "read":
        cls = load(argv[2], argv[3], argv[4])
        prefix, out = argv[5], argv[6]
        msg = cls()
        with open(prefix + ".bin", "rb") as f:
            msg.ParseFromString(f.read())
        with open(out + ".values", "w") as f:
            json.dump(values(msg), f)
        with open(out + ".bin", "wb") as f:
            f.write(msg.SerializeToString())
        from_json = cls()
        with open(prefix + ".json") as f:
            json_format.Parse(f.read(), from_json, ignore_unknown_fields=True)
        with open(out + ".json-values", "w") as f:
            json.dump(values(from_json), f)
    elif mode == "same":
        with open(argv[2]) as f:
            written = json.load(f)
        with open(argv[3]) as f:
            read = json.load(f)
        for number in read["known"]:
            w = written["values"].get(str(number))
            r = read["values"].get(str(number))
            if w != r:
                raise SystemExit("field %d: wrote %r, read %r" % (number, w, r))
        extra = set(read["values"]) - set(written["values"])
        if extra:
            raise SystemExit("read fields never written: %s" % sorted(extra))
        if not read["values"]:
            raise SystemExit("nothing read")
    elif mode == "again":
        cls = load(argv[2], argv[3], argv[4])
        with open(argv[5] + ".values") as f:
            written = json.load(f)
        msg = cls()
        with open(argv[6], "rb") as f:
            msg.ParseFromString(f.read())
        if values(msg) != written:
            raise SystemExit("after a round trip through the other side: %r, wrote %r"
                             % (values(msg), written))
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv)
