/* JSON validation: is a text one JSON value (RFC 8259), as a json field promises consumers? */
#include "autoconf.h"

#include "ascii.h"
#include "json_valid.h"

struct Scan {
	const char *p, *end, *start;
	const char *why;
};

static bool fail(struct Scan *s, const char *why)
{
	s->why = why;
	return false;
}

const char *json_skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static bool literal(struct Scan *s, const char *word)
{
	for (const char *w = word; *w; w++, s->p++)
		if (s->p >= s->end || *s->p != *w)
			return fail(s, "invalid literal");
	return true;
}

/* '"' ... '"': escapes checked; control characters must be escaped. */
static bool string(struct Scan *s)
{
	s->p++; /* the opening quote */
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			return true;
		}
		if (c < 0x20)
			return fail(s, "control character in a string");
		if (c != '\\') {
			s->p++;
			continue;
		}
		if (++s->p >= s->end)
			break;
		switch (*s->p) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			s->p++;
			break;
		case 'u':
			s->p++;
			for (int i = 0; i < 4; i++, s->p++)
				if (s->p >= s->end || !ascii_hex(*s->p))
					return fail(s, "invalid \\u escape");
			break;
		default:
			return fail(s, "invalid escape");
		}
	}
	return fail(s, "unterminated string");
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool number(struct Scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p >= s->end || !ascii_digit(*s->p))
		return fail(s, "invalid number");
	if (*s->p == '0')
		s->p++;
	else
		while (s->p < s->end && ascii_digit(*s->p))
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (s->p >= s->end || !ascii_digit(*s->p))
			return fail(s, "invalid number");
		while (s->p < s->end && ascii_digit(*s->p))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || !ascii_digit(*s->p))
			return fail(s, "invalid number");
		while (s->p < s->end && ascii_digit(*s->p))
			s->p++;
	}
	return true;
}

static bool value(struct Scan *s, int depth);

/* '[' values ']' or '{' "name": value ... '}'. */
static bool container(struct Scan *s, int depth)
{
	char close = *s->p == '[' ? ']' : '}';
	bool object = close == '}';

	if (depth >= JSON_VALID_MAX_DEPTH)
		return fail(s, "nested too deeply");
	s->p++;
	s->p = json_skip_space(s->p, s->end);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return true;
	}
	for (;;) {
		if (object) {
			s->p = json_skip_space(s->p, s->end);
			if (s->p >= s->end || *s->p != '"')
				return fail(s, "expected a member name");
			if (!string(s))
				return false;
			s->p = json_skip_space(s->p, s->end);
			if (s->p >= s->end || *s->p != ':')
				return fail(s, "expected ':'");
			s->p++;
		}
		if (!value(s, depth + 1))
			return false;
		s->p = json_skip_space(s->p, s->end);
		if (s->p >= s->end)
			return fail(s, "unexpected end");
		if (*s->p == close) {
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return fail(s, object ? "expected ',' or '}'" : "expected ',' or ']'");
		s->p++;
	}
}

static bool value(struct Scan *s, int depth)
{
	s->p = json_skip_space(s->p, s->end);
	if (s->p >= s->end)
		return fail(s, "unexpected end");
	switch (*s->p) {
	case '{':
	case '[':
		return container(s, depth);
	case '"':
		return string(s);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		if (*s->p == '-' || ascii_digit(*s->p))
			return number(s);
		return fail(s, "unexpected character");
	}
}

bool json_valid(const char *text, size_t len, size_t *offset, const char **why)
{
	struct Scan s = {.p = text, .end = text + len, .start = text};
	bool ok = value(&s, 0);
	if (ok) {
		s.p = json_skip_space(s.p, s.end);
		if (s.p < s.end)
			ok = fail(&s, "text after the value");
	}
	*offset = (size_t)(s.p - s.start);
	*why = ok ? NULL : s.why;
	return ok;
}
