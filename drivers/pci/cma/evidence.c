// SPDX-License-Identifier: GPL-2.0
/*
 * PCIe CMA-SPDM: the evidence a device gave, for verifiers that do not
 * trust this kernel (see Documentation/PCI/cma.rst, "Evidence").
 *
 * - "signatures/": a log of the signed exchanges whose signature the
 *   kernel verified, one set of read-only files per entry N:
 *   N_type, N_hash_algorithm, N_transcript, N_signature,
 *   N_combined_spdm_prefix (SPDM 1.2+), N_requester_nonce,
 *   N_responder_nonce and N_certificate_chain.  The log keeps at most
 *   pci_cma.signature_log_size bytes per device (entries, their chains and
 *   sysfs nodes); the oldest entries go first.  It survives
 *   re-authentications and goes with the device.
 * - "signatures/next_requester_nonce": root writes 32 bytes; the next
 *   authentication or measurement refresh sends them as the nonce of each
 *   signed request, then forgets them.
 * - "measurements/record" and "measurements/blocks": the last measurement
 *   record and a listing of its blocks; "measurements/refresh" fetches new
 *   ones.
 *
 * The CMA component adds entries with pci_cma_log_signature() during an
 * authentication, with pdev->cma->lock held; that lock serialises every
 * change of the log.  An entry never changes once its files exist, and
 * removing a file waits for its readers, so readers take no lock.
 */

#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/pci-cma.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "core.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "pci_cma."

/*
 * Bound of each device's log, in bytes: 1 MiB holds about a hundred
 * authentications with a typical (3 KiB) chain and measurements; 0 turns
 * the log off.
 */
static unsigned int pci_cma_log_size = 1024 * 1024;
module_param_named(signature_log_size, pci_cma_log_size, uint, 0644);
MODULE_PARM_DESC(signature_log_size,
		 "Most bytes of signature log kept per device (0: no log)");

#define PCI_CMA_SIG_GROUP "signatures"

/* Files of a log entry, in the order they are added: N_type last. */
enum {
	PCI_CMA_SIG_FILE_HASH,
	PCI_CMA_SIG_FILE_TRANSCRIPT,
	PCI_CMA_SIG_FILE_SIGNATURE,
	PCI_CMA_SIG_FILE_PREFIX,
	PCI_CMA_SIG_FILE_REQ_NONCE,
	PCI_CMA_SIG_FILE_RSP_NONCE,
	PCI_CMA_SIG_FILE_CHAIN,
	PCI_CMA_SIG_FILE_TYPE,
	PCI_CMA_SIG_FILES
};

static const char * const pci_cma_sig_file_names[PCI_CMA_SIG_FILES] = {
	[PCI_CMA_SIG_FILE_TYPE] = "type",
	[PCI_CMA_SIG_FILE_HASH] = "hash_algorithm",
	[PCI_CMA_SIG_FILE_TRANSCRIPT] = "transcript",
	[PCI_CMA_SIG_FILE_SIGNATURE] = "signature",
	[PCI_CMA_SIG_FILE_PREFIX] = "combined_spdm_prefix",
	[PCI_CMA_SIG_FILE_REQ_NONCE] = "requester_nonce",
	[PCI_CMA_SIG_FILE_RSP_NONCE] = "responder_nonce",
	[PCI_CMA_SIG_FILE_CHAIN] = "certificate_chain",
};

static const char * const pci_cma_sig_type_names[PCI_CMA_SIG_TYPES] = {
	[PCI_CMA_SIG_CHALLENGE_AUTH] = "challenge_auth\n",
	[PCI_CMA_SIG_MEASUREMENTS] = "measurements\n",
};

/* What a sysfs file costs besides its contents (kernfs node, name). */
#define PCI_CMA_SIG_FILE_COST 256
/* "4294967295_combined_spdm_prefix" */
#define PCI_CMA_SIG_NAME_SIZE 32

/*
 * A certificate chain, shared by consecutive entries that used it; @users
 * counts them, under cma->lock.
 */
struct pci_cma_chain {
	unsigned int users;
	size_t len;
	u8 data[] __counted_by(len);
};

/**
 * struct pci_cma_sig - an entry of the signature log
 * @node: in &pci_cma.sigs
 * @chain: the certificate chain (shared)
 * @charged: what the entry holds, @chain excluded
 * @files: its files, @nr_files of them
 * @nr_files: number of @files (no prefix before SPDM 1.2)
 * @added: number of @files in sysfs
 * @names: their names
 * @len: size of @data
 * @data: the file contents but the chain's
 */
struct pci_cma_sig {
	struct list_head node;
	struct pci_cma_chain *chain;
	size_t charged;
	struct bin_attribute files[PCI_CMA_SIG_FILES];
	unsigned int nr_files;
	unsigned int added;
	char names[PCI_CMA_SIG_FILES][PCI_CMA_SIG_NAME_SIZE];
	size_t len;
	u8 data[] __counted_by(len);
};

/* The measurements shown: both files' contents. */
struct pci_cma_meas {
	size_t record_len;
	size_t blocks_len;
	u8 data[];
};

/* Any entry's file: its contents never change. */
static ssize_t pci_cma_sig_read(struct file *filp, struct kobject *kobj,
				const struct bin_attribute *attr, char *buf,
				loff_t off, size_t count)
{
	return memory_read_from_buffer(buf, count, &off, attr->private,
				       attr->size);
}

/* With cma->lock held: the memory @chain costs, if the log holds it. */
static size_t pci_cma_chain_cost(struct pci_cma_chain *chain)
{
	return chain ? struct_size(chain, data, chain->len) : 0;
}

/*
 * With cma->lock held: drop an entry, removing its files (which waits for
 * their readers) unless the device's directory is going away.
 */
static void pci_cma_sig_drop(struct pci_dev *pdev, struct pci_cma_sig *sig)
{
	struct pci_cma *cma = pdev->cma;
	struct pci_cma_chain *chain = sig->chain;
	unsigned int i;

	if (!cma->unpublished)
		for (i = 0; i < sig->added; i++)
			sysfs_remove_bin_file_from_group(&pdev->dev.kobj,
							 &sig->files[i],
							 PCI_CMA_SIG_GROUP);
	list_del(&sig->node);
	cma->sig_bytes -= sig->charged;
	/* The chain's cost goes with its last entry. */
	if (chain && !--chain->users) {
		cma->sig_bytes -= pci_cma_chain_cost(chain);
		kvfree(chain);
	}
	kvfree(sig);
}

/* With cma->lock held: drop the oldest entries until @bytes fit @limit. */
static void pci_cma_sig_trim(struct pci_dev *pdev, size_t bytes, size_t limit)
{
	struct pci_cma *cma = pdev->cma;
	struct pci_cma_sig *old;

	while (size_add(cma->sig_bytes, bytes) > limit) {
		old = list_first_entry_or_null(&cma->sigs, struct pci_cma_sig,
					       node);
		if (!old)
			break;
		pci_cma_sig_drop(pdev, old);
	}
}

/* With cma->lock held: the chain for a new entry, shared if unchanged. */
static struct pci_cma_chain *pci_cma_sig_chain(struct pci_cma *cma,
					       const u8 *chain, size_t len,
					       size_t *cost)
{
	struct pci_cma_sig *last;
	struct pci_cma_chain *c;

	*cost = 0;
	last = list_last_entry_or_null(&cma->sigs, struct pci_cma_sig, node);
	if (last && last->chain && last->chain->len == len &&
	    !memcmp(last->chain->data, chain, len)) {
		last->chain->users++;
		return last->chain;
	}
	c = kvmalloc(struct_size(c, data, len), GFP_KERNEL);
	if (!c)
		return NULL;
	c->users = 1;
	c->len = len;
	memcpy(c->data, chain, len);
	*cost = struct_size(c, data, len);
	return c;
}

static bool pci_cma_sig_valid(const struct pci_cma_signature *sig)
{
	return sig->type < PCI_CMA_SIG_TYPES && sig->hash_algorithm &&
	       sig->transcript && sig->transcript_len &&
	       sig->signature && sig->signature_len &&
	       (sig->combined_spdm_prefix || !sig->combined_spdm_prefix_len) &&
	       sig->requester_nonce && sig->responder_nonce &&
	       sig->certificate_chain && sig->certificate_chain_len;
}

/**
 * pci_cma_log_signature() - add a signed exchange to @pdev's signature log
 * @pdev: CMA-capable device, its cma->lock held (during
 *	&pci_cma_ops.authenticate or &pci_cma_ops.measure)
 * @sig: the exchange, copied
 *
 * Evicts the oldest entries until the new one fits the log's bound.
 * Returns 0, -E2BIG when the entry alone exceeds the bound (or the log is
 * off), -ENOMEM, or the error of adding its files.  Logs nothing: the
 * caller decides what a missing entry is worth saying.
 */
int pci_cma_log_signature(struct pci_dev *pdev,
			  const struct pci_cma_signature *sig)
{
	struct pci_cma *cma = pdev->cma;
	size_t hash_len, type_len, sizes[PCI_CMA_SIG_FILES];
	const void *src[PCI_CMA_SIG_FILES];
	size_t len = 0, charged, chain_cost, limit;
	struct pci_cma_chain *chain;
	struct pci_cma_sig *entry;
	unsigned int i, n = 0;
	char hash[16];
	u8 *p;
	int ret;

	if (!cma || !pci_cma_sig_valid(sig))
		return -EINVAL;
	lockdep_assert_held(&cma->lock);
	/* The device's directory is going away (pci_cma_unpublish()). */
	if (cma->unpublished)
		return -ENODEV;

	snprintf(hash, sizeof(hash), "%s\n", sig->hash_algorithm);
	hash_len = strlen(hash);
	type_len = strlen(pci_cma_sig_type_names[sig->type]);
	sizes[PCI_CMA_SIG_FILE_TYPE] = type_len;
	src[PCI_CMA_SIG_FILE_TYPE] = pci_cma_sig_type_names[sig->type];
	sizes[PCI_CMA_SIG_FILE_HASH] = hash_len;
	src[PCI_CMA_SIG_FILE_HASH] = hash;
	sizes[PCI_CMA_SIG_FILE_TRANSCRIPT] = sig->transcript_len;
	src[PCI_CMA_SIG_FILE_TRANSCRIPT] = sig->transcript;
	sizes[PCI_CMA_SIG_FILE_SIGNATURE] = sig->signature_len;
	src[PCI_CMA_SIG_FILE_SIGNATURE] = sig->signature;
	sizes[PCI_CMA_SIG_FILE_PREFIX] = sig->combined_spdm_prefix_len;
	src[PCI_CMA_SIG_FILE_PREFIX] = sig->combined_spdm_prefix;
	sizes[PCI_CMA_SIG_FILE_REQ_NONCE] = PCI_CMA_NONCE_SIZE;
	src[PCI_CMA_SIG_FILE_REQ_NONCE] = sig->requester_nonce;
	sizes[PCI_CMA_SIG_FILE_RSP_NONCE] = PCI_CMA_NONCE_SIZE;
	src[PCI_CMA_SIG_FILE_RSP_NONCE] = sig->responder_nonce;
	sizes[PCI_CMA_SIG_FILE_CHAIN] = 0;	/* in the shared chain */
	src[PCI_CMA_SIG_FILE_CHAIN] = NULL;
	for (i = 0; i < PCI_CMA_SIG_FILES; i++)
		if (check_add_overflow(len, sizes[i], &len))
			return -E2BIG;

	charged = size_add(struct_size(entry, data, len),
			   PCI_CMA_SIG_FILES * PCI_CMA_SIG_FILE_COST);
	limit = READ_ONCE(pci_cma_log_size);
	if (size_add(charged, struct_size_t(struct pci_cma_chain, data,
					    sig->certificate_chain_len)) > limit) {
		/* A bound lowered since (0: off) applies to the old entries. */
		pci_cma_sig_trim(pdev, 0, limit);
		return -E2BIG;
	}

	entry = kvzalloc(struct_size(entry, data, len), GFP_KERNEL);
	if (!entry)
		return -ENOMEM;
	entry->len = len;
	chain = pci_cma_sig_chain(cma, sig->certificate_chain,
				  sig->certificate_chain_len, &chain_cost);
	if (!chain) {
		kvfree(entry);
		return -ENOMEM;
	}
	entry->chain = chain;
	entry->charged = charged;

	p = entry->data;
	for (i = 0; i < PCI_CMA_SIG_FILES; i++) {
		struct bin_attribute *attr = &entry->files[n];

		if (i == PCI_CMA_SIG_FILE_PREFIX && !sizes[i])
			continue;
		snprintf(entry->names[n], PCI_CMA_SIG_NAME_SIZE, "%u_%s",
			 cma->sig_next, pci_cma_sig_file_names[i]);
		sysfs_bin_attr_init(attr);
		attr->attr.name = entry->names[n];
		attr->attr.mode = 0444;
		attr->read = pci_cma_sig_read;
		if (i == PCI_CMA_SIG_FILE_CHAIN) {
			attr->private = chain->data;
			attr->size = chain->len;
		} else {
			memcpy(p, src[i], sizes[i]);
			attr->private = p;
			attr->size = sizes[i];
			p += sizes[i];
		}
		n++;
	}
	entry->nr_files = n;

	list_add_tail(&entry->node, &cma->sigs);
	cma->sig_bytes += charged + chain_cost;
	cma->sig_next++;
	/* N_type last: an entry with N_type is complete. */
	for (i = 0; i < entry->nr_files; i++) {
		ret = sysfs_add_bin_file_to_group(&pdev->dev.kobj,
						  &entry->files[i],
						  PCI_CMA_SIG_GROUP);
		if (ret) {
			pci_cma_sig_drop(pdev, entry);
			return ret;
		}
		entry->added++;
	}
	/*
	 * Then make room, the oldest entries first (a chain they share with
	 * the new entry stays): a failed entry costs no old one.
	 */
	list_del(&entry->node);
	cma->sig_bytes -= charged + chain_cost;
	pci_cma_sig_trim(pdev, charged + chain_cost, limit);
	list_add_tail(&entry->node, &cma->sigs);
	cma->sig_bytes += charged + chain_cost;
	return 0;
}
EXPORT_SYMBOL_GPL(pci_cma_log_signature);

/**
 * pci_cma_take_nonce() - the nonce root chose for the next signed exchanges
 * @pdev: CMA-capable device, its cma->lock held
 * @nonce: receives %PCI_CMA_NONCE_SIZE bytes
 *
 * Returns whether one was written to ``signatures/next_requester_nonce``
 * since the last call; it is forgotten here.
 */
bool pci_cma_take_nonce(struct pci_dev *pdev, u8 *nonce)
{
	struct pci_cma *cma = pdev->cma;

	if (!cma)
		return false;
	lockdep_assert_held(&cma->lock);
	if (!cma->nonce_set)
		return false;
	memcpy(nonce, cma->nonce, PCI_CMA_NONCE_SIZE);
	memzero_explicit(cma->nonce, PCI_CMA_NONCE_SIZE);
	cma->nonce_set = false;
	return true;
}
EXPORT_SYMBOL_GPL(pci_cma_take_nonce);

/**
 * pci_cma_set_measurements() - show @pdev's measurements
 * @pdev: CMA-capable device, its cma->lock held
 * @record: the measurement record (DMTF measurement blocks), NULL for none
 * @record_len: its size
 * @blocks: the text of ``measurements/blocks``
 * @blocks_len: its size
 *
 * Replaces what ``measurements/record`` and ``blocks`` show; with no
 * record they are empty.  Returns 0 or -ENOMEM (then they are empty).
 */
int pci_cma_set_measurements(struct pci_dev *pdev, const u8 *record,
			     size_t record_len, const u8 *blocks,
			     size_t blocks_len)
{
	struct pci_cma *cma = pdev->cma;
	struct pci_cma_meas *meas = NULL, *old;
	int ret = 0;

	if (!cma)
		return -EINVAL;
	lockdep_assert_held(&cma->lock);
	if (record && record_len) {
		meas = kvmalloc(size_add(struct_size(meas, data, record_len),
					 blocks_len), GFP_KERNEL);
		if (meas) {
			meas->record_len = record_len;
			meas->blocks_len = blocks_len;
			memcpy(meas->data, record, record_len);
			if (blocks_len)
				memcpy(meas->data + record_len, blocks,
				       blocks_len);
		} else {
			ret = -ENOMEM;
		}
	}
	mutex_lock(&cma->meas_lock);
	old = cma->meas;
	cma->meas = meas;
	mutex_unlock(&cma->meas_lock);
	kvfree(old);
	return ret;
}
EXPORT_SYMBOL_GPL(pci_cma_set_measurements);

/* For pci_cma_init(). */
void pci_cma_evidence_init(struct pci_cma *cma)
{
	INIT_LIST_HEAD(&cma->sigs);
	mutex_init(&cma->meas_lock);
}

/*
 * For pci_cma_destroy(), after device_del() removed the files: free the
 * log and the measurements.
 */
void pci_cma_evidence_destroy(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;
	struct pci_cma_sig *sig, *next;

	mutex_lock(&cma->lock);
	/* device_del() removed the files (pci_cma_unpublish() came first). */
	cma->unpublished = true;
	list_for_each_entry_safe(sig, next, &cma->sigs, node)
		pci_cma_sig_drop(pdev, sig);
	memzero_explicit(cma->nonce, PCI_CMA_NONCE_SIZE);
	cma->nonce_set = false;
	pci_cma_set_measurements(pdev, NULL, 0, NULL, 0);
	mutex_unlock(&cma->lock);
	mutex_destroy(&cma->meas_lock);
}

/* sysfs: "signatures/next_requester_nonce" */

static ssize_t next_requester_nonce_write(struct file *filp,
					  struct kobject *kobj,
					  const struct bin_attribute *attr,
					  char *buf, loff_t off, size_t count)
{
	struct pci_cma *cma = to_pci_dev(kobj_to_dev(kobj))->cma;
	int ret;

	/* All 32 bytes in one write. */
	if (off || count != PCI_CMA_NONCE_SIZE)
		return -EINVAL;
	if (!cma)
		return -ENODEV;
	ret = mutex_lock_killable(&cma->lock);
	if (ret)
		return ret;
	memcpy(cma->nonce, buf, PCI_CMA_NONCE_SIZE);
	cma->nonce_set = true;
	mutex_unlock(&cma->lock);
	return count;
}
static const BIN_ATTR_WO(next_requester_nonce, PCI_CMA_NONCE_SIZE);

static const struct bin_attribute *const pci_cma_sig_attrs[] = {
	&bin_attr_next_requester_nonce,
	NULL
};

static bool pci_cma_sig_group_visible(struct kobject *kobj)
{
	return pci_cma_capable(to_pci_dev(kobj_to_dev(kobj)));
}

static umode_t pci_cma_sig_attr_visible(struct kobject *kobj,
					const struct bin_attribute *attr, int n)
{
	return attr->attr.mode;
}
DEFINE_SYSFS_BIN_GROUP_VISIBLE(pci_cma_sig);

const struct attribute_group pci_cma_sig_group = {
	.name = PCI_CMA_SIG_GROUP,
	.bin_attrs = pci_cma_sig_attrs,
	.is_bin_visible = SYSFS_GROUP_VISIBLE(pci_cma_sig),
};

/* sysfs: "measurements/record", "blocks", "refresh" */

static ssize_t pci_cma_meas_read(struct kobject *kobj, bool blocks, char *buf,
				 loff_t off, size_t count)
{
	struct pci_cma *cma = to_pci_dev(kobj_to_dev(kobj))->cma;
	struct pci_cma_meas *meas;
	ssize_t ret = 0;

	if (!cma)
		return 0;
	mutex_lock(&cma->meas_lock);
	meas = cma->meas;
	if (meas && blocks)
		ret = memory_read_from_buffer(buf, count, &off,
					      meas->data + meas->record_len,
					      meas->blocks_len);
	else if (meas)
		ret = memory_read_from_buffer(buf, count, &off, meas->data,
					      meas->record_len);
	mutex_unlock(&cma->meas_lock);
	return ret;
}

static ssize_t record_read(struct file *filp, struct kobject *kobj,
			   const struct bin_attribute *attr, char *buf,
			   loff_t off, size_t count)
{
	return pci_cma_meas_read(kobj, false, buf, off, count);
}
/* Size 0: the size of the record changes; reads end at its end. */
static const BIN_ATTR_RO(record, 0);

static ssize_t blocks_read(struct file *filp, struct kobject *kobj,
			   const struct bin_attribute *attr, char *buf,
			   loff_t off, size_t count)
{
	return pci_cma_meas_read(kobj, true, buf, off, count);
}
static const BIN_ATTR_RO(blocks, 0);

static ssize_t refresh_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct pci_dev *pdev = to_pci_dev(dev);
	bool yes;
	int ret;

	if (kstrtobool(buf, &yes) || !yes)
		return -EINVAL;
	/* As for "re": resume the device first, outside cma->lock. */
	ret = pm_runtime_resume_and_get(dev);
	if (ret)
		return ret;
	ret = pci_cma_measure(pdev);
	pm_runtime_put(dev);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(refresh);

static struct attribute *pci_cma_meas_attrs[] = {
	&dev_attr_refresh.attr,
	NULL
};

static const struct bin_attribute *const pci_cma_meas_bin_attrs[] = {
	&bin_attr_record,
	&bin_attr_blocks,
	NULL
};

/*
 * The group's visibility is decided on its first text attribute
 * ("refresh"); the binary ones keep their own mode.
 */
static bool pci_cma_meas_group_visible(struct kobject *kobj)
{
	return pci_cma_capable(to_pci_dev(kobj_to_dev(kobj)));
}
DEFINE_SIMPLE_SYSFS_GROUP_VISIBLE(pci_cma_meas);

const struct attribute_group pci_cma_meas_group = {
	.name = "measurements",
	.attrs = pci_cma_meas_attrs,
	.bin_attrs = pci_cma_meas_bin_attrs,
	.is_visible = SYSFS_GROUP_VISIBLE(pci_cma_meas),
};
