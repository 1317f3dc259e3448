// SPDX-License-Identifier: GPL-2.0

#include <crypto/kpp.h>
#include <crypto/sha2.h>
#include <crypto/sig.h>
#include <linux/string.h>

__rust_helper void rust_helper_memzero_explicit(void *s, size_t count)
{
	memzero_explicit(s, count);
}

#if IS_BUILTIN(CONFIG_CRYPTO_LIB_SHA256)
__rust_helper void rust_helper_sha256_update(struct sha256_ctx *ctx,
					     const u8 *data, size_t len)
{
	sha256_update(ctx, data, len);
}

__rust_helper void rust_helper_hmac_sha256_update(struct hmac_sha256_ctx *ctx,
						  const u8 *data, size_t len)
{
	hmac_sha256_update(ctx, data, len);
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

__rust_helper void rust_helper_hmac_sha384_update(struct hmac_sha384_ctx *ctx,
						  const u8 *data, size_t len)
{
	hmac_sha384_update(ctx, data, len);
}

__rust_helper void rust_helper_hmac_sha512_update(struct hmac_sha512_ctx *ctx,
						  const u8 *data, size_t len)
{
	hmac_sha512_update(ctx, data, len);
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

#if IS_BUILTIN(CONFIG_CRYPTO_ECDH)
__rust_helper void rust_helper_crypto_free_kpp(struct crypto_kpp *tfm)
{
	crypto_free_kpp(tfm);
}

__rust_helper int rust_helper_crypto_kpp_set_secret(struct crypto_kpp *tfm,
						    const void *buffer,
						    unsigned int len)
{
	return crypto_kpp_set_secret(tfm, buffer, len);
}

__rust_helper unsigned int rust_helper_crypto_kpp_maxsize(struct crypto_kpp *tfm)
{
	return crypto_kpp_maxsize(tfm);
}

__rust_helper struct kpp_request *
rust_helper_kpp_request_alloc(struct crypto_kpp *tfm, gfp_t gfp)
{
	return kpp_request_alloc(tfm, gfp);
}

__rust_helper void rust_helper_kpp_request_free(struct kpp_request *req)
{
	kpp_request_free(req);
}

__rust_helper void rust_helper_kpp_request_set_callback(struct kpp_request *req,
							u32 flgs,
							crypto_completion_t cmpl,
							void *data)
{
	kpp_request_set_callback(req, flgs, cmpl, data);
}

__rust_helper void rust_helper_kpp_request_set_input(struct kpp_request *req,
						     struct scatterlist *input,
						     unsigned int input_len)
{
	kpp_request_set_input(req, input, input_len);
}

__rust_helper void rust_helper_kpp_request_set_output(struct kpp_request *req,
						      struct scatterlist *output,
						      unsigned int output_len)
{
	kpp_request_set_output(req, output, output_len);
}

__rust_helper int rust_helper_crypto_kpp_generate_public_key(struct kpp_request *req)
{
	return crypto_kpp_generate_public_key(req);
}

__rust_helper int rust_helper_crypto_kpp_compute_shared_secret(struct kpp_request *req)
{
	return crypto_kpp_compute_shared_secret(req);
}
#endif
