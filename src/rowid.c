/* Row ids: what a snapshot or backfill row's ce_id is made of, the same every time it is read. */
#include "autoconf.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "file.h"
#include "rowid.h"

_Static_assert(ROWID_SECRET_BYTES == crypto_shorthash_siphashx24_KEYBYTES, "SipHash key size");

int rowid_load(struct RowId *r, const char *path, char *err, size_t errlen)
{
	char text[2 * ROWID_SECRET_BYTES + 2];
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		if (n >= 2 * ROWID_SECRET_BYTES &&
		    strspn(text, "0123456789abcdef") == 2 * ROWID_SECRET_BYTES) {
			for (int i = 0; i < ROWID_SECRET_BYTES; i++) {
				unsigned v;
				sscanf(text + 2 * i, "%2x", &v);
				r->secret[i] = (uint8_t)v;
			}
			return 0;
		}
		/* Damaged: a new secret means new ids, which is duplicates at worst. */
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "row id secret %s: %s", path, strerror(errno));
		return -1;
	}
	if (getrandom(r->secret, sizeof(r->secret), 0) != (ssize_t)sizeof(r->secret)) {
		snprintf(err, errlen, "row id secret: no random numbers: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < ROWID_SECRET_BYTES; i++)
		snprintf(text + 2 * i, 3, "%02x", r->secret[i]);
	text[2 * ROWID_SECRET_BYTES] = '\n';
	return file_replace(path, text, 2 * ROWID_SECRET_BYTES + 1, "row id secret", err, errlen);
}

/* Room for need bytes in r->buf. */
static void reserve(struct RowId *r, size_t need)
{
	if (need <= r->cap)
		return;
	size_t cap = need < 256 ? 256 : need * 2;
	uint8_t *grown = realloc(r->buf, cap);
	if (!grown)
		abort();
	r->buf = grown;
	r->cap = cap;
}

static size_t put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
	return 4;
}

void rowid_format(struct RowId *r, char *out, size_t outlen, const char *prefix, uint32_t relid,
		  const struct PgoValue *cols, const uint16_t *keys, uint16_t nkeys)
{
	/* relid, then each key value length-prefixed: ("ab","c") and ("a","bc") differ. */
	reserve(r, 4);
	size_t len = put_u32(r->buf, relid);
	for (uint16_t k = 0; k < nkeys; k++) {
		const struct PgoValue *v = &cols[keys[k]];
		bool null = v->kind == 'n' || v->kind == 'u';
		reserve(r, len + 4 + (null ? 0 : v->len));
		len += put_u32(r->buf + len, null ? UINT32_MAX : v->len);
		if (!null) {
			memcpy(r->buf + len, v->data, v->len);
			len += v->len;
		}
	}
	uint8_t md[crypto_shorthash_siphashx24_BYTES];
	crypto_shorthash_siphashx24(md, r->buf, (unsigned long long)len, r->secret);
	static const char hex[] = "0123456789abcdef";
	/* Once per row read: no printf. */
	size_t n = strlen(prefix);
	if (n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	memcpy(out, prefix, n);
	for (size_t i = 0; i < sizeof(md) && n + 2 < outlen; i++) {
		out[n++] = hex[md[i] >> 4];
		out[n++] = hex[md[i] & 15];
	}
	out[n] = '\0';
}

void rowid_free(struct RowId *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}
