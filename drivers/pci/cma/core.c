// SPDX-License-Identifier: GPL-2.0
/*
 * PCIe Component Measurement and Authentication (CMA-SPDM): PCI core side.
 *
 * The PCI core calls pci_cma_init() for every device it adds, right after
 * device_add() and before pci_bus_add_device() lets drivers bind, and
 * pci_cma_destroy() from pci_destroy_dev() once device_del() has removed
 * the device's sysfs files.  For a device with a CMA DOE mailbox this file
 *
 * - holds the device's driver matching back (pci_bus_match() returns
 *   -EPROBE_DEFER) from enumeration until its first verdict, so that no
 *   driver, PCIe port services included, probes an unauthenticated device,
 *   even when it is enumerated before the authentication component and
 *   the crypto it needs are up;
 * - runs that first authentication in a work item, one per device, so
 *   that devices are authenticated in parallel and no lock shared between
 *   devices is held across device I/O;
 * - authenticates the device again, synchronously, whenever it may have
 *   lost its SPDM state or been replaced: after a reset (pci_dev_restore()),
 *   a system resume or restore and a runtime resume from D3cold
 *   (pci-driver.c), and AER/DPC recovery (pcie/err.c), each before the
 *   device's driver is told it may use the device again; and when user
 *   space writes "re" to "authenticated";
 * - provides the device's sysfs attributes as static groups of the PCI
 *   device (pci_dev_attr_groups[]): "authenticated" and
 *   "certificates/slot0".."slot7" (a file per populated slot);
 * - stays out of the way of a PCI TSM: "authenticated" belongs to the TSM
 *   where a link TSM shows one, and no SPDM traffic is started while a
 *   TSM holds the device.
 *
 * The authentication itself is the CMA component's (cma.rs), which
 * registers its operations with pci_cma_register() at init.
 */

#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-cma.h>
#include <linux/pci-doe.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "../pci.h"

/* The registered component; serialises probing and its registration. */
static DEFINE_MUTEX(pci_cma_lock);
static const struct pci_cma_ops *pci_cma_ops;
static void *pci_cma_ctx;

static bool pci_cma_capable(struct pci_dev *pdev)
{
	return pci_find_doe_mailbox(pdev, PCI_VENDOR_ID_PCI_SIG,
				    PCI_DOE_FEATURE_CMA);
}

/**
 * pci_cma_tsm_owns() - whether a PCI TSM holds @pdev
 * @pdev: PCI device
 *
 * While a TSM holds the device's connection, the CMA component sends no
 * SPDM on its mailbox.
 */
bool pci_cma_tsm_owns(struct pci_dev *pdev)
{
#ifdef CONFIG_PCI_TSM
	return READ_ONCE(pdev->tsm);
#else
	return false;
#endif
}
EXPORT_SYMBOL_GPL(pci_cma_tsm_owns);

static void *pci_cma_data(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;

	/* Pairs with the smp_store_release() in pci_cma_probe(). */
	return cma ? smp_load_acquire(&cma->data) : NULL;
}

/* With cma->lock held: show the certificate files of the new verdict. */
static void pci_cma_update_files(struct pci_dev *pdev, void *data)
{
	struct pci_cma *cma = pdev->cma;
	bool changed = false;
	unsigned int i;

	lockdep_assert_held(&cma->lock);
	for (i = 0; i < PCI_CMA_SLOTS; i++) {
		size_t size = data ? pci_cma_ops->slot_size(pdev, data, i) : 0;

		if (size != cma->slot_size[i]) {
			cma->slot_size[i] = size;
			changed = true;
		}
	}
	/* Re-creates the group's files: only when they change. */
	if (changed)
		sysfs_update_group(&pdev->dev.kobj, &pci_cma_cert_group);
}

/*
 * Authenticates @pdev because of @event and publishes the verdict.  Takes
 * cma->lock, so attempts on one device are serialised and none runs once
 * pci_cma_destroy() has taken the component's state away; other devices
 * are not affected.  Readers of the sysfs files never take it.
 */
static int pci_cma_attempt(struct pci_dev *pdev, enum pci_cma_event event)
{
	struct pci_cma *cma = pdev->cma;
	void *data;
	int ret = 0;

	if (event == PCI_CMA_REQUESTED) {
		ret = mutex_lock_killable(&cma->lock);
		if (ret)
			return ret;
	} else {
		mutex_lock(&cma->lock);
	}
	/* Pairs with the smp_store_release() in pci_cma_probe(). */
	data = smp_load_acquire(&cma->data);
	if (data && !pci_cma_tsm_owns(pdev)) {
		ret = pci_cma_ops->authenticate(pdev, data, event);
		pci_cma_update_files(pdev, data);
	}
	mutex_unlock(&cma->lock);
	return ret;
}

/* The first verdict is there (or never will be): release driver matching. */
static void pci_cma_release_match(struct pci_dev *pdev)
{
	if (test_and_clear_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags) &&
	    device_is_registered(&pdev->dev)) {
		/*
		 * The driver core deferred the device's probe while the
		 * verdict was pending; try its drivers now.  Outside
		 * cma->lock: device_lock() nests outside it.
		 */
		if (device_attach(&pdev->dev) < 0)
			pci_dbg(pdev, "CMA: no driver attached\n");
	}
}

static void pci_cma_work(struct work_struct *work)
{
	struct pci_cma *cma = container_of(work, struct pci_cma, work);
	struct pci_dev *pdev = cma->pdev;

	pci_cma_attempt(pdev, PCI_CMA_ENUMERATED);
	pci_cma_release_match(pdev);
}

/**
 * pci_cma_reauthenticate() - authenticate @pdev again after @event
 * @pdev: PCI device
 * @event: what happened to it
 *
 * Called by the PCI core, synchronously, after @pdev was reset, resumed
 * or recovered and before its driver is told so (see
 * Documentation/PCI/cma.rst for the call sites and the locks they hold).
 * Returns once the verdict is published; takes only @pdev's CMA lock and
 * never waits for a runtime resume.  Does nothing for a device that is
 * not CMA-capable.
 */
void pci_cma_reauthenticate(struct pci_dev *pdev, enum pci_cma_event event)
{
	if (pdev->cma)
		pci_cma_attempt(pdev, event);
}

/* pci_walk_bus() callback of AER/DPC recovery (pcie/err.c). */
int pci_cma_recovered(struct pci_dev *pdev, void *unused)
{
	pci_cma_reauthenticate(pdev, PCI_CMA_RECOVERED);
	return 0;
}

/* With pci_cma_lock held: let the component take @pdev on. */
static void pci_cma_probe(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;
	void *data;

	lockdep_assert_held(&pci_cma_lock);
	if (!pci_cma_ops || cma->data || cma->removed)
		return;
	data = pci_cma_ops->probe(pdev, pci_cma_ctx);
	if (!data)
		pci_err(pdev, "CMA: not authenticated: out of memory\n");
	/* Publish the state to the lockless sysfs callbacks and the work. */
	smp_store_release(&cma->data, data);
	queue_work(system_dfl_long_wq, &cma->work);
}

/**
 * pci_cma_init() - set up CMA for a newly added device
 * @pdev: PCI device, just added with device_add()
 *
 * Called by the PCI core before drivers may bind.  Sleeps.
 */
void pci_cma_init(struct pci_dev *pdev)
{
	struct pci_cma *cma;

	if (!pci_cma_capable(pdev))
		return;

	/* No driver binds before the device's first verdict. */
	set_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags);
	cma = kzalloc_obj(*cma, GFP_KERNEL);
	if (!cma) {
		pci_err(pdev, "CMA: not authenticated: out of memory\n");
		clear_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags);
		return;
	}
	cma->pdev = pdev;
	INIT_WORK(&cma->work, pci_cma_work);
	mutex_init(&cma->lock);

	mutex_lock(&pci_cma_lock);
	pdev->cma = cma;
	pci_cma_probe(pdev);
	mutex_unlock(&pci_cma_lock);
}

/**
 * pci_cma_destroy() - tear down CMA for a device being removed
 * @pdev: PCI device, after device_del()
 *
 * Waits for a running authentication and frees the component's state; a
 * late pci_cma_reauthenticate() finds none.  @pdev->cma itself stays until
 * pci_cma_release().
 */
void pci_cma_destroy(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;
	void *data;

	if (!cma)
		return;
	mutex_lock(&pci_cma_lock);
	cma->removed = true;
	mutex_unlock(&pci_cma_lock);
	cancel_work_sync(&cma->work);
	mutex_lock(&cma->lock);
	data = cma->data;
	WRITE_ONCE(cma->data, NULL);
	mutex_unlock(&cma->lock);
	if (data)
		pci_cma_ops->remove(pdev, data);
}

/**
 * pci_cma_release() - free @pdev's CMA state
 * @pdev: PCI device, released (last reference gone)
 */
void pci_cma_release(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;

	if (!cma)
		return;
	pdev->cma = NULL;
	mutex_destroy(&cma->lock);
	kfree(cma);
}

/**
 * pci_cma_match() - whether @pdev's drivers may be matched now
 * @pdev: PCI device
 *
 * Returns -EPROBE_DEFER while the device's first verdict is pending, else 0.
 */
int pci_cma_match(struct pci_dev *pdev)
{
	return test_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags) ?
		-EPROBE_DEFER : 0;
}

/**
 * pci_cma_register() - register the CMA authentication component
 * @ops: its operations
 * @ctx: passed to @ops->probe
 *
 * Takes on every CMA-capable device present and every later one.  Once
 * only: the component is built in and stays.
 */
int pci_cma_register(const struct pci_cma_ops *ops, void *ctx)
{
	struct pci_dev *pdev = NULL;

	mutex_lock(&pci_cma_lock);
	if (pci_cma_ops) {
		mutex_unlock(&pci_cma_lock);
		return -EBUSY;
	}
	pci_cma_ctx = ctx;
	pci_cma_ops = ops;
	for_each_pci_dev(pdev)
		if (pdev->cma)
			pci_cma_probe(pdev);
	mutex_unlock(&pci_cma_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(pci_cma_register);

/*
 * Should the component never register (its init failed), do not keep the
 * drivers of CMA-capable devices from binding forever.
 */
static int __init pci_cma_unclaimed(void)
{
	struct pci_dev *pdev = NULL;
	bool registered;

	mutex_lock(&pci_cma_lock);
	registered = pci_cma_ops;
	mutex_unlock(&pci_cma_lock);
	if (registered)
		return 0;
	for_each_pci_dev(pdev) {
		if (!test_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags))
			continue;
		pci_warn(pdev, "CMA: not authenticated: CMA component not initialised\n");
		pci_cma_release_match(pdev);
	}
	return 0;
}
late_initcall(pci_cma_unclaimed);

/* sysfs: "authenticated" */

static ssize_t authenticated_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct pci_dev *pdev = to_pci_dev(dev);
	void *data = pci_cma_data(pdev);

	if (!data)
		return sysfs_emit(buf, "0\n");
	return pci_cma_ops->authenticated_show(pdev, data, buf);
}

static ssize_t authenticated_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct pci_dev *pdev = to_pci_dev(dev);
	int ret;

	/* "re": authenticate again, in full (the roots may have changed). */
	if (!sysfs_streq(buf, "re"))
		return -EINVAL;
	if (!pci_cma_data(pdev))
		return -ENODEV;
	if (pci_cma_tsm_owns(pdev))
		return -EBUSY;
	/*
	 * Resume the device first, outside cma->lock: a resume from D3cold
	 * authenticates it itself (pci_pm_runtime_resume()).
	 */
	ret = pm_runtime_resume_and_get(dev);
	if (ret)
		return ret;
	ret = pci_cma_attempt(pdev, PCI_CMA_REQUESTED);
	pm_runtime_put(dev);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(authenticated);

static struct attribute *pci_cma_attrs[] = {
	&dev_attr_authenticated.attr,
	NULL
};

static umode_t pci_cma_attr_visible(struct kobject *kobj,
				    struct attribute *a, int n)
{
	struct pci_dev *pdev = to_pci_dev(kobj_to_dev(kobj));

	if (!pci_cma_capable(pdev))
		return 0;
	/* A link TSM's "authenticated" takes precedence (drivers/pci/tsm.c). */
	if (pci_tsm_shows_authenticated(pdev))
		return 0;
	return a->mode;
}

const struct attribute_group pci_cma_attr_group = {
	.attrs = pci_cma_attrs,
	.is_visible = pci_cma_attr_visible,
};

/* sysfs: "certificates/slotN" */

static ssize_t slot_read(struct file *filp, struct kobject *kobj,
			 const struct bin_attribute *attr, char *buf,
			 loff_t off, size_t count)
{
	struct pci_dev *pdev = to_pci_dev(kobj_to_dev(kobj));
	void *data = pci_cma_data(pdev);

	if (!data)
		return 0;
	return pci_cma_ops->slot_read(pdev, data, (uintptr_t)attr->private,
				      buf, off, count);
}

#define CMA_SLOT(n)							\
static const struct bin_attribute pci_cma_slot##n = {			\
	.attr = { .name = "slot" #n, .mode = 0444 },			\
	.private = (void *)n,						\
	.read = slot_read,						\
}

CMA_SLOT(0);
CMA_SLOT(1);
CMA_SLOT(2);
CMA_SLOT(3);
CMA_SLOT(4);
CMA_SLOT(5);
CMA_SLOT(6);
CMA_SLOT(7);

static const struct bin_attribute *const pci_cma_cert_attrs[] = {
	&pci_cma_slot0, &pci_cma_slot1, &pci_cma_slot2, &pci_cma_slot3,
	&pci_cma_slot4, &pci_cma_slot5, &pci_cma_slot6, &pci_cma_slot7,
	NULL
};

/* The sizes recorded by the last verdict (under cma->lock). */
static size_t pci_cma_slot_size(struct kobject *kobj,
				const struct bin_attribute *attr, int n)
{
	struct pci_cma *cma = to_pci_dev(kobj_to_dev(kobj))->cma;

	return cma && n >= 0 && n < PCI_CMA_SLOTS ? cma->slot_size[n] : 0;
}

/* A file per slot whose chain the kernel holds ... */
static umode_t pci_cma_cert_attr_visible(struct kobject *kobj,
					 const struct bin_attribute *attr, int n)
{
	return pci_cma_slot_size(kobj, attr, n) ? attr->attr.mode : 0;
}

/* ... in a directory that only CMA-capable devices have. */
static bool pci_cma_cert_group_visible(struct kobject *kobj)
{
	return pci_cma_capable(to_pci_dev(kobj_to_dev(kobj)));
}

DEFINE_SYSFS_BIN_GROUP_VISIBLE(pci_cma_cert);

const struct attribute_group pci_cma_cert_group = {
	.name = "certificates",
	.bin_attrs = pci_cma_cert_attrs,
	.is_bin_visible = SYSFS_GROUP_VISIBLE(pci_cma_cert),
	.bin_size = pci_cma_slot_size,
};

/**
 * pci_cma_sysfs_update() - re-evaluate which CMA files @pdev shows
 * @pdev: PCI device
 *
 * For drivers/pci/tsm.c, when a link TSM comes or goes.
 */
void pci_cma_sysfs_update(struct pci_dev *pdev)
{
	sysfs_update_group(&pdev->dev.kobj, &pci_cma_attr_group);
}
