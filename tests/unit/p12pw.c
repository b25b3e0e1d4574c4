/* p12pw.c: test helper: open a sealed PKCS#12 password (hex on stdin) with the data key file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/secret.h"
#include "core/util.h"

int
main(int argc, char **argv)
{
	unsigned char key[SECRET_KEY_LEN], blob[512], *pw = NULL;
	char hex[1100];
	size_t n = 0, len = 0;

	if (argc != 2 || fgets(hex, sizeof(hex), stdin) == NULL) {
		fprintf(stderr, "usage: p12pw DATA_KEY_FILE < sealed-hex\n");
		return 2;
	}
	hex[strcspn(hex, "\r\n")] = '\0';
	if (strncmp(hex, "\\x", 2) == 0)
		memmove(hex, hex + 2, strlen(hex) - 1);
	for (size_t i = 0; hex[i] && hex[i + 1] && n < sizeof(blob); i += 2)
		blob[n++] = (unsigned char)(util_hexval(hex[i]) << 4 | util_hexval(hex[i + 1]));
	if (secret_key_load(argv[1], SECRET_KEY_GROUP, key) != 0 ||
	    secret_open(key, "p12-password", blob, n, &pw, &len) != 0) {
		fprintf(stderr, "p12pw: cannot open\n");
		return 1;
	}
	printf("%s\n", (char *)pw);
	secret_wipe(pw, len);
	free(pw);
	return 0;
}
