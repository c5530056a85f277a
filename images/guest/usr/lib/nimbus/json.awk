# Flattens a JSON document (RFC 8259) into one "path<TAB>value" line per scalar, so that sh can
# read OpenStack's meta_data.json with grep and cut, e.g.
#   {"hostname": "vm1", "public_keys": {"k1": "ssh-ed25519 AAAA..."}, "keys": [{"name": "k1"}]}
# becomes
#   hostname	vm1
#   public_keys.k1	ssh-ed25519 AAAA...
#   keys.0.name	k1
# Strings are unescaped (\uXXXX only below 0x80; others stay as written), newlines inside a value
# are written as \n so each scalar stays on one line. Exits 1 on malformed input.
# Usage: awk -f json.awk meta_data.json

{ doc = doc $0 "\n" }

END {
	pos = 1
	n = length(doc)
	if (!parse_value("")) fail()
	skip_ws()
	if (pos <= n) fail()
}

function fail() {
	print "json.awk: malformed JSON near character " pos > "/dev/stderr"
	exit 1
}

function skip_ws(   c) {
	while (pos <= n) {
		c = substr(doc, pos, 1)
		if (c != " " && c != "\t" && c != "\n" && c != "\r") return
		pos++
	}
}

function emit(path, value) {
	gsub(/\n/, "\\n", value)
	print path "\t" value
}

function join(path, key) {
	return path == "" ? key : path "." key
}

function parse_value(path,   c, lit) {
	skip_ws()
	c = substr(doc, pos, 1)
	if (c == "{") return parse_object(path)
	if (c == "[") return parse_array(path)
	if (c == "\"") {
		if (!parse_string()) return 0
		emit(path, str)
		return 1
	}
	if (match(substr(doc, pos, 64), /^(-?[0-9][0-9.eE+-]*|true|false|null)/)) {
		emit(path, substr(doc, pos, RLENGTH))
		pos += RLENGTH
		return 1
	}
	return 0
}

function parse_object(path,   key, c) {
	pos++                                   # {
	skip_ws()
	if (substr(doc, pos, 1) == "}") { pos++; return 1 }
	while (1) {
		skip_ws()
		if (substr(doc, pos, 1) != "\"" || !parse_string()) return 0
		key = str
		skip_ws()
		if (substr(doc, pos, 1) != ":") return 0
		pos++
		if (!parse_value(join(path, key))) return 0
		skip_ws()
		c = substr(doc, pos++, 1)
		if (c == "}") return 1
		if (c != ",") return 0
	}
}

function parse_array(path,   i, c) {
	pos++                                   # [
	skip_ws()
	if (substr(doc, pos, 1) == "]") { pos++; return 1 }
	for (i = 0; ; i++) {
		if (!parse_value(join(path, i))) return 0
		skip_ws()
		c = substr(doc, pos++, 1)
		if (c == "]") return 1
		if (c != ",") return 0
	}
}

# Sets the global str to the unescaped string starting at pos (on its opening quote).
function parse_string(   c, e, code) {
	str = ""
	pos++                                   # opening quote
	while (pos <= n) {
		c = substr(doc, pos++, 1)
		if (c == "\"") return 1
		if (c != "\\") { str = str c; continue }
		e = substr(doc, pos++, 1)
		if (e == "n") str = str "\n"
		else if (e == "t") str = str "\t"
		else if (e == "r") str = str "\r"
		else if (e == "b" || e == "f") str = str " "
		else if (e == "u") {
			code = hex(substr(doc, pos, 4))
			if (code >= 32 && code < 128) str = str sprintf("%c", code)
			else str = str "\\u" substr(doc, pos, 4)
			pos += 4
		}
		else str = str e                    # \" \\ \/
	}
	return 0
}

function hex(s,   i, v) {
	v = 0
	for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
	return v
}
