// SPDX-License-Identifier: GPL-2.0

#include <keys/asymmetric-type.h>
#include <linux/cred.h>
#include <linux/key.h>

#ifdef CONFIG_KEYS
__rust_helper key_ref_t rust_helper_make_key_ref(const struct key *key,
						 bool possession)
{
	return make_key_ref(key, possession);
}

__rust_helper struct key *rust_helper_key_ref_to_ptr(const key_ref_t key_ref)
{
	return key_ref_to_ptr(key_ref);
}

__rust_helper void rust_helper_key_ref_put(key_ref_t key_ref)
{
	key_ref_put(key_ref);
}

__rust_helper struct key *rust_helper_key_get(struct key *key)
{
	return key_get(key);
}

__rust_helper const struct public_key *
rust_helper_asymmetric_key_public_key(const struct key *key)
{
	return asymmetric_key_public_key(key);
}

__rust_helper const struct cred *rust_helper_current_cred(void)
{
	return current_cred();
}
#endif
