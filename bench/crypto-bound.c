/*
 * crypto-bound.c: what this machine's CPUs allow for issuance, without any service around it.
 *   crypto-bound keygen N        RSA-2048 key generation, OpenSSL 3 vs nettle, one core
 *   crypto-bound bound TYPE N J  key + certificate + CA signature + PKCS#12, N in all on J threads
 * Built by bench/issue against the build's libshomei.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nettlersa.h"
#include "pki/keypool.h"
#include "pki/rsagen.h"
#include "pki/p12.h"
#include "pki/secret.h"
#include "pki/x509.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *name, double *ms, int n)
{
	double sum = 0;

	qsort(ms, (size_t)n, sizeof(double), cmpd);
	for (int i = 0; i < n; i++)
		sum += ms[i];
	printf("%-28s n=%d mean=%.1f ms p50=%.1f ms p99=%.1f ms max=%.1f ms\n", name, n, sum / n,
	       ms[n / 2], ms[(int)(n * 0.99)], ms[n - 1]);
}

static int
gen_openssl_rsa(EVP_PKEY **k)
{
	return x509_key_generate(X509_KEY_RSA2048, k);
}

static int
gen_nettle_rsa(EVP_PKEY **k)
{
	return nettlersa_keypair(2048, k);
}

static int
gen_rsagen_rsa(EVP_PKEY **k)
{
	return rsagen_keypair(2048, k);
}

static int
gen_p256(EVP_PKEY **k)
{
	return x509_key_generate(X509_KEY_P256, k);
}

static int
keygen(int n)
{
	static const struct {
		const char *name;
		int (*gen)(EVP_PKEY **);
	} ways[] = {
		{"openssl rsa-2048", gen_openssl_rsa},
		{"nettle rsa-2048 (+check)", gen_nettle_rsa},
		{"rsagen rsa-2048 (+check)", gen_rsagen_rsa},
		{"openssl p-256", gen_p256},
	};
	double *ms = calloc((size_t)n, sizeof(double));

	if (ms == NULL)
		return 1;
	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		for (int i = 0; i < n; i++) {
			double t0 = now();
			EVP_PKEY *k = NULL;
			if (ways[w].gen(&k) != 0) {
				free(ms);
				return 1;
			}
			ms[i] = (now() - t0) * 1000;
			EVP_PKEY_free(k);
		}
		report(ways[w].name, ms, n);
	}
	free(ms);
	return 0;
}

struct job {
	enum x509_key_type type;
	int n;
	EVP_PKEY *ca_key;
	X509 *ca, *root;
	int failed;
};

/* One certificate as shomei-issue makes it: key, build, sign, PKCS#12 with a sealed password. */
static int
one(struct job *j, int i, const unsigned char *mk)
{
	char cn[32], pw[SECRET_PASSWORD_LEN + 1];
	struct x509_subject s = {.cn = cn, .ou = {"bench"}, .o = "Bench", .c = "JP"};
	struct x509_client c = {.issuer = j->ca,
				.crl_url = "http://localhost/crl/bench.1.crl",
				.ocsp_url = "https://localhost/ocsp"};
	X509 *chain[2] = {j->ca, j->root};
	EVP_PKEY *k = NULL;
	X509_NAME *name = NULL;
	X509 *x = NULL;
	unsigned char *p12 = NULL, *sealed = NULL, *der = NULL;
	size_t p12len = 0, slen = 0, dlen = 0;
	int rc;

	snprintf(cn, sizeof(cn), "client_%06d", i);
	c.not_before = time(NULL) - 60;
	c.not_after = c.not_before + 365 * 86400;
	if ((rc = keypool_generate(j->type, KEYPOOL_RSA_RSAGEN, &k)) != 0 ||
	    (rc = x509_name_build(&s, &name)) != 0)
		goto out;
	c.pub = k, c.subject = name;
	if ((rc = x509_build_client(&c, &x)) != 0 || (rc = x509_sign(x, j->ca_key)) != 0 ||
	    (rc = x509_cert_to_der(x, &der, &dlen)) != 0 ||
	    (rc = secret_random_password(pw, sizeof(pw))) != 0 ||
	    (rc = p12_build(k, x, chain, 2, pw, P12_COMPAT, &p12, &p12len)) != 0 ||
	    (rc = secret_seal(mk, "p12-password", pw, strlen(pw), &sealed, &slen)) != 0)
		goto out;
out:
	free(p12);
	free(sealed);
	free(der);
	X509_free(x);
	X509_NAME_free(name);
	EVP_PKEY_free(k);
	return rc;
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	unsigned char mk[SECRET_KEY_LEN] = {1};

	for (int i = 0; i < j->n; i++)
		if (one(j, i + 1, mk) != 0)
			j->failed++;
	return NULL;
}

static int
make_ca(EVP_PKEY **key, X509 **ca, X509 **root, EVP_PKEY **root_key)
{
	struct x509_subject rs = {.cn = "Bench Root", .o = "Bench", .c = "JP"};
	struct x509_subject cs = {.cn = "Bench Issuing CA", .o = "Bench", .c = "JP"};
	X509_NAME *rn = NULL, *cn = NULL;
	time_t t = time(NULL);
	int rc;

	if ((rc = x509_key_generate(X509_KEY_RSA2048, root_key)) != 0 ||
	    (rc = x509_key_generate(X509_KEY_RSA2048, key)) != 0 ||
	    (rc = x509_name_build(&rs, &rn)) != 0 || (rc = x509_name_build(&cs, &cn)) != 0 ||
	    (rc = x509_build_root(*root_key, rn, t - 600, t + 86400 * 3650, 1, root)) != 0 ||
	    (rc = x509_sign(*root, *root_key)) != 0 ||
	    (rc = x509_build_ca(*key, cn, *root, t - 300, t + 86400 * 3000, ca)) != 0 ||
	    (rc = x509_sign(*ca, *root_key)) != 0)
		return rc;
	X509_NAME_free(rn);
	X509_NAME_free(cn);
	return 0;
}

static int
bound(const char *type, int n, int nthreads)
{
	struct job jobs[64];
	pthread_t tids[64];
	EVP_PKEY *ca_key = NULL, *root_key = NULL;
	X509 *ca = NULL, *root = NULL;
	enum x509_key_type kt;
	int failed = 0;
	double t0, t1;

	if (x509_key_type_parse(type, &kt) != 0 || nthreads < 1 || nthreads > 64 ||
	    make_ca(&ca_key, &ca, &root, &root_key) != 0)
		return 2;
	t0 = now();
	for (int i = 0; i < nthreads; i++) {
		jobs[i] = (struct job){kt, n / nthreads + (i < n % nthreads), ca_key, ca, root, 0};
		pthread_create(&tids[i], NULL, worker, &jobs[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(tids[i], NULL);
		failed += jobs[i].failed;
	}
	t1 = now();
	printf("bound %s n=%d threads=%d seconds=%.3f per_second=%.1f failed=%d\n", type, n,
	       nthreads, t1 - t0, n / (t1 - t0), failed);
	X509_free(ca);
	X509_free(root);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(root_key);
	return failed != 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "keygen") == 0)
		return keygen(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "bound") == 0)
		return bound(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr,
		"usage: crypto-bound keygen N | crypto-bound bound rsa2048|p256 N THREADS\n");
	return 2;
}
