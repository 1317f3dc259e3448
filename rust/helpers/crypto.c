// SPDX-License-Identifier: GPL-2.0

#include <crypto/sha2.h>
#include <crypto/sig.h>

#if IS_BUILTIN(CONFIG_CRYPTO_LIB_SHA256)
__rust_helper void rust_helper_sha256_update(struct sha256_ctx *ctx,
					     const u8 *data, size_t len)
{
	sha256_update(ctx, data, len);
}
#endif

#if IS_BUILTIN(CONFIG_CRYPTO_LIB_SHA512)
__rust_helper void rust_helper_sha384_update(struct sha384_ctx *ctx,
					     const u8 *data, size_t len)
{
	sha384_update(ctx, data, len);
}

__rust_helper void rust_helper_sha512_update(struct sha512_ctx *ctx,
					     const u8 *data, size_t len)
{
	sha512_update(ctx, data, len);
}
#endif

#if IS_BUILTIN(CONFIG_CRYPTO_SIG2)
__rust_helper void rust_helper_crypto_free_sig(struct crypto_sig *tfm)
{
	crypto_free_sig(tfm);
}

__rust_helper unsigned int rust_helper_crypto_sig_maxsize(struct crypto_sig *tfm)
{
	return crypto_sig_maxsize(tfm);
}

__rust_helper int rust_helper_crypto_sig_set_pubkey(struct crypto_sig *tfm,
						    const void *key,
						    unsigned int keylen)
{
	return crypto_sig_set_pubkey(tfm, key, keylen);
}

__rust_helper int rust_helper_crypto_sig_verify(struct crypto_sig *tfm,
						const void *src,
						unsigned int slen,
						const void *digest,
						unsigned int dlen)
{
	return crypto_sig_verify(tfm, src, slen, digest, dlen);
}
#endif
