/* Field types and identifiers, as the configuration, the lock file and the .proto files spell them. */
#include "autoconf.h"

#include <string.h>

#include "field.h"

const char *field_type_name(enum field_type type)
{
	switch (type) {
	case FT_INT32:
		return "int32";
	case FT_INT64:
		return "int64";
	case FT_UINT32:
		return "uint32";
	case FT_UINT64:
		return "uint64";
	case FT_SINT32:
		return "sint32";
	case FT_SINT64:
		return "sint64";
	case FT_BOOL:
		return "bool";
	case FT_FLOAT:
		return "float";
	case FT_DOUBLE:
		return "double";
	case FT_STRING:
		return "string";
	case FT_BYTES:
		return "bytes";
	case FT_TIMESTAMP:
		return "timestamp";
	case FT_DATE:
		return "date";
	case FT_DECIMAL:
		return "decimal";
	case FT_JSON:
		return "json";
	case FT_UUID:
		return "uuid";
	case FT_ENUM:
		return "enum";
	}
	return "unknown";
}

bool field_type_parse(const char *name, enum field_type *out)
{
	for (int t = FT_INT32; t <= FT_ENUM; t++)
		if (strcmp(name, field_type_name((enum field_type)t)) == 0) {
			*out = (enum field_type)t;
			return true;
		}
	return false;
}

bool field_is_identifier(const char *s, size_t len)
{
	if (len == 0 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}
