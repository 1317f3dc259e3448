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
 * - applies the driver-binding policy to each verdict: "off" (no SPDM at
 *   all), "warn" (drivers bind whatever the verdict) or "enforce" (no
 *   driver binds unless the device is authenticated), global
 *   (pci_cma.policy, pci_cma.untrusted_policy) or per device
 *   ("cma_policy"); pci_bus_match() and pci_device_probe() ask
 *   pci_cma_match(), so every way of binding a driver is covered, and a
 *   work item per device binds the driver once it may and unbinds it when
 *   a re-authentication fails under "enforce";
 * - sends a KOBJ_CHANGE uevent whenever the verdict or the binding
 *   decision changes, and adds the device's SPDM_* variables to all of
 *   its uevents (pci_cma_uevent());
 * - provides the device's sysfs attributes as static groups of the PCI
 *   device (pci_dev_attr_groups[]): "authenticated", "cma_policy",
 *   "cma_pcie_san" and "certificates/slot0".."slot7" (a file per
 *   populated slot);
 * - stays out of the way of a PCI TSM: "authenticated" belongs to the TSM
 *   where a link TSM shows one, and no SPDM traffic is started while a
 *   TSM holds the device.
 *
 * The authentication itself is the CMA component's (cma.rs), which
 * registers its operations with pci_cma_register() at init.
 */

#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-cma.h>
#include <linux/pci-doe.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "../pci.h"
#include "core.h"

/* The parameters are the CMA component's: pci_cma.policy=... */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "pci_cma."

/* The registered component; serialises probing and its registration. */
static DEFINE_MUTEX(pci_cma_lock);
static const struct pci_cma_ops *pci_cma_ops;
static void *pci_cma_ctx;

/*
 * Driver-binding policies, from lenient to strict: of two, the stricter is
 * the greater.  "default" is a device's own setting only: follow the
 * global policy.
 */
enum pci_cma_policy {
	PCI_CMA_POLICY_DEFAULT,
	PCI_CMA_POLICY_OFF,
	PCI_CMA_POLICY_WARN,
	PCI_CMA_POLICY_ENFORCE,
};

static const char * const pci_cma_policy_names[] = {
	[PCI_CMA_POLICY_DEFAULT] = "default",
	[PCI_CMA_POLICY_OFF] = "off",
	[PCI_CMA_POLICY_WARN] = "warn",
	[PCI_CMA_POLICY_ENFORCE] = "enforce",
};

/* Whether the leaf certificate must carry the device's PCIe name. */
enum pci_cma_pcie_san {
	PCI_CMA_SAN_DEFAULT,
	PCI_CMA_SAN_REQUIRED,
	PCI_CMA_SAN_OPTIONAL,
};

static const char * const pci_cma_san_names[] = {
	[PCI_CMA_SAN_DEFAULT] = "default",
	[PCI_CMA_SAN_REQUIRED] = "required",
	[PCI_CMA_SAN_OPTIONAL] = "optional",
};

/* SPDM_REASON of the uevents */
static const char * const pci_cma_result_names[PCI_CMA_RESULTS] = {
	[PCI_CMA_PENDING] = "pending",
	[PCI_CMA_AUTHENTICATED] = "authenticated",
	[PCI_CMA_DISABLED] = "disabled",
	[PCI_CMA_UNTRUSTED] = "untrusted",
	[PCI_CMA_IDENTITY] = "identity",
	[PCI_CMA_SIGNATURE] = "signature",
	[PCI_CMA_UNSUPPORTED] = "unsupported",
	[PCI_CMA_PROTOCOL] = "protocol",
	[PCI_CMA_TRANSPORT] = "transport",
	[PCI_CMA_INTERRUPTED] = "interrupted",
	[PCI_CMA_ERROR] = "error",
};

/* SPDM_EVENT of the KOBJ_CHANGE uevents, by enum pci_cma_event */
static const char * const pci_cma_event_names[] = {
	[PCI_CMA_ENUMERATED] = "enumerated",
	[PCI_CMA_REQUESTED] = "requested",
	[PCI_CMA_RESUMED] = "resumed",
	[PCI_CMA_RUNTIME_RESUMED] = "runtime-resumed",
	[PCI_CMA_RESET] = "reset",
	[PCI_CMA_RECOVERED] = "recovered",
};

/* ... and when only the policy changed */
#define PCI_CMA_EVENT_POLICY "policy"

/* Bits of cma->actions, for pci_cma_bind_work() */
#define PCI_CMA_ACT_BIND	0	/* a driver may bind now: attach one */
#define PCI_CMA_ACT_UNBIND	1	/* an authentication failed under enforce */

#if defined(CONFIG_PCI_CMA_DEFAULT_POLICY_ENFORCE)
#define PCI_CMA_POLICY_BUILTIN PCI_CMA_POLICY_ENFORCE
#elif defined(CONFIG_PCI_CMA_DEFAULT_POLICY_OFF)
#define PCI_CMA_POLICY_BUILTIN PCI_CMA_POLICY_OFF
#else
#define PCI_CMA_POLICY_BUILTIN PCI_CMA_POLICY_WARN
#endif

/* A global setting: one of @names but the first ("default"). */
struct pci_cma_choice {
	int value;
	const char * const *names;
	unsigned int n;
};

static struct pci_cma_choice pci_cma_global_policy = {
	PCI_CMA_POLICY_BUILTIN, pci_cma_policy_names,
	ARRAY_SIZE(pci_cma_policy_names)
};
/* Devices behind external-facing ports: never more lenient than this. */
static struct pci_cma_choice pci_cma_untrusted_policy = {
	PCI_CMA_POLICY_ENFORCE, pci_cma_policy_names,
	ARRAY_SIZE(pci_cma_policy_names)
};
static struct pci_cma_choice pci_cma_global_san = {
	PCI_CMA_SAN_REQUIRED, pci_cma_san_names, ARRAY_SIZE(pci_cma_san_names)
};

/*
 * The policy that applies to a device: its own, else the global one, for a
 * device behind an external-facing port (untrusted) at least
 * @untrusted_policy.
 */
static enum pci_cma_policy pci_cma_resolve(enum pci_cma_policy own,
					   enum pci_cma_policy global,
					   bool untrusted,
					   enum pci_cma_policy untrusted_policy)
{
	if (own != PCI_CMA_POLICY_DEFAULT)
		return own;
	if (untrusted)
		return max(global, untrusted_policy);
	return global;
}

/* Whether a driver may bind to a device with @result under @policy. */
static bool pci_cma_decide(enum pci_cma_policy policy,
			   enum pci_cma_result result)
{
	return policy != PCI_CMA_POLICY_ENFORCE ||
	       result == PCI_CMA_AUTHENTICATED;
}

static enum pci_cma_policy pci_cma_policy_of(const struct pci_dev *pdev)
{
	return pci_cma_resolve(READ_ONCE(pdev->cma->policy),
			       READ_ONCE(pci_cma_global_policy.value),
			       pdev->untrusted,
			       READ_ONCE(pci_cma_untrusted_policy.value));
}

/* Whether the leaf must name the device: its own rule, else the global. */
static bool pci_cma_require_san(const struct pci_dev *pdev)
{
	enum pci_cma_pcie_san rule = READ_ONCE(pdev->cma->pcie_san);

	if (rule == PCI_CMA_SAN_DEFAULT)
		rule = READ_ONCE(pci_cma_global_san.value);
	return rule != PCI_CMA_SAN_OPTIONAL;
}

bool pci_cma_capable(struct pci_dev *pdev)
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
	/* The device's directory is going away (pci_cma_unpublish()). */
	if (cma->unpublished)
		return;
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

/**
 * pci_cma_uevent() - add @pdev's CMA variables to a uevent
 * @pdev: PCI device
 * @env: the uevent's environment
 *
 * For pci_uevent(): every uevent of a CMA-capable device, the KOBJ_CHANGE
 * of a new verdict as well as "add", "bind" and those of "udevadm
 * trigger", carries the device's verdict and binding decision.
 */
int pci_cma_uevent(const struct pci_dev *pdev, struct kobj_uevent_env *env)
{
	const struct pci_cma *cma = pdev->cma;
	enum pci_cma_result result;
	const char *bind;

	if (!cma)
		return 0;
	result = READ_ONCE(cma->result);
	if (test_bit_acquire(PCI_DEV_CMA_PENDING, &pdev->priv_flags))
		bind = "pending";
	else
		bind = READ_ONCE(cma->allowed) ? "allowed" : "denied";
	if (add_uevent_var(env, "SPDM_AUTHENTICATED=%d",
			   result == PCI_CMA_AUTHENTICATED) ||
	    add_uevent_var(env, "SPDM_REASON=%s",
			   pci_cma_result_names[result]) ||
	    add_uevent_var(env, "SPDM_POLICY=%s",
			   pci_cma_policy_names[pci_cma_policy_of(pdev)]) ||
	    add_uevent_var(env, "SPDM_BIND=%s", bind) ||
	    add_uevent_var(env, "SPDM_SESSION=%d",
			   READ_ONCE(cma->session_active)))
		return -ENOMEM;
	return 0;
}

/*
 * With cma->lock held, outside an authentication: tell user space that the
 * session kept with @pdev came or went (SPDM_EVENT=session).
 */
static void pci_cma_session_notify(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;
	char event[] = "SPDM_EVENT=session";
	char *envp[] = { event, NULL };

	lockdep_assert_held(&cma->lock);
	if (!cma->session_changed || cma->unpublished)
		return;
	cma->session_changed = false;
	kobject_uevent_env(&pdev->dev.kobj, KOBJ_CHANGE, envp);
}

/*
 * With cma->lock held: make @result the device's verdict, decide whether a
 * driver may bind, release the device's driver matching (its first
 * verdict), tell user space when anything changed (@why: SPDM_EVENT), and
 * have the binding follow the decision.  @attempt: @result is the outcome
 * of an authentication (else the policy changed): a failed one under
 * "enforce" unbinds a bound driver; a policy change alone never does.
 */
static void pci_cma_publish(struct pci_dev *pdev, enum pci_cma_result result,
			    const char *why, bool attempt)
{
	struct pci_cma *cma = pdev->cma;
	enum pci_cma_policy policy = pci_cma_policy_of(pdev);
	bool allowed = pci_cma_decide(policy, result);
	bool pending = test_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags);
	bool was = cma->allowed && !pending;
	char event[32];
	char *envp[] = { event, NULL };

	lockdep_assert_held(&cma->lock);
	if (allowed && !was)
		set_bit(PCI_CMA_ACT_BIND, &cma->actions);
	if (!allowed && attempt)
		set_bit(PCI_CMA_ACT_UNBIND, &cma->actions);
	if (!allowed && (was || pending))
		pci_info(pdev, "CMA: no driver may bind (%s, policy %s)\n",
			 pci_cma_result_names[result],
			 pci_cma_policy_names[policy]);
	if (!allowed && was && !attempt && READ_ONCE(pdev->dev.driver))
		pci_notice(pdev, "CMA: policy changed: driver %s stays bound\n",
			   dev_driver_string(&pdev->dev));
	if (!pending && result == cma->result && allowed == cma->allowed &&
	    !cma->session_changed)
		goto act;
	WRITE_ONCE(cma->result, result);
	WRITE_ONCE(cma->allowed, allowed);
	cma->session_changed = false;
	/* Pairs with test_bit_acquire() in pci_cma_match(). */
	clear_bit_unlock(PCI_DEV_CMA_PENDING, &pdev->priv_flags);
	snprintf(event, sizeof(event), "SPDM_EVENT=%s", why);
	kobject_uevent_env(&pdev->dev.kobj, KOBJ_CHANGE, envp);
act:
	if (READ_ONCE(cma->actions))
		queue_work(system_dfl_long_wq, &cma->bind_work);
}

/*
 * The binding follows the decision, in process context and outside every
 * CMA lock (device_lock() nests outside cma->lock): unbind the driver of a
 * device whose authentication failed under "enforce", bind one to a device
 * that may have one now.  Each step checks the decision again.
 */
static void pci_cma_bind_work(struct work_struct *work)
{
	struct pci_cma *cma = container_of(work, struct pci_cma, bind_work);
	struct pci_dev *pdev = cma->pdev;
	struct device *dev = &pdev->dev;

	if (test_and_clear_bit(PCI_CMA_ACT_UNBIND, &cma->actions) &&
	    !READ_ONCE(cma->allowed) && READ_ONCE(dev->driver)) {
		pci_warn(pdev, "CMA: unbinding driver %s: not authenticated (%s), policy enforce\n",
			 dev_driver_string(dev),
			 pci_cma_result_names[READ_ONCE(cma->result)]);
		device_release_driver(dev);
	}
	if (test_and_clear_bit(PCI_CMA_ACT_BIND, &cma->actions) &&
	    READ_ONCE(cma->allowed) && !READ_ONCE(dev->driver) &&
	    device_is_registered(dev)) {
		/*
		 * The driver core deferred or refused the device's drivers
		 * until now; try them.
		 */
		if (device_attach(dev) < 0)
			pci_dbg(pdev, "CMA: no driver attached\n");
	}
}

/*
 * Takes cma->lock, as every authentication and every use of the device's
 * session does, and returns the component's state for the device in
 * @data (NULL once pci_cma_destroy() took it).  @killable: for a writer
 * of a sysfs file, who gives up (-EINTR) when killed.
 */
static int pci_cma_lock_dev(struct pci_cma *cma, bool killable, void **data)
{
	if (killable) {
		int ret = mutex_lock_killable(&cma->lock);

		if (ret)
			return ret;
	} else {
		mutex_lock(&cma->lock);
	}
	/* Pairs with the smp_store_release() in pci_cma_probe(). */
	*data = smp_load_acquire(&cma->data);
	return 0;
}

/*
 * With cma->lock held, when no SPDM may be sent (policy "off", a TSM holds
 * the device): the component ends the session it keeps, without a word to
 * the device.
 */
static void pci_cma_forget_session(struct pci_dev *pdev, void *data)
{
	lockdep_assert_held(&pdev->cma->lock);
	if (READ_ONCE(pdev->cma->session_active))
		pci_cma_ops->session(pdev, data, PCI_CMA_SESSION_FORGET);
}

/*
 * Authenticates @pdev because of @event and publishes the verdict.  Takes
 * cma->lock, so attempts on one device are serialised and none runs once
 * pci_cma_destroy() has taken the component's state away; other devices
 * are not affected.  Readers of the sysfs files never take it.  Returns 0,
 * -EINTR when a writer of "re" was killed, -EPERM when the policy is "off".
 */
static int pci_cma_attempt(struct pci_dev *pdev, enum pci_cma_event event)
{
	struct pci_cma *cma = pdev->cma;
	enum pci_cma_result result;
	void *data;
	int ret;

	ret = pci_cma_lock_dev(cma, event == PCI_CMA_REQUESTED, &data);
	if (ret)
		return ret;
	if (!data)
		goto out;
	if (pci_cma_tsm_owns(pdev)) {
		/* The TSM's mailbox now: no session of ours on it. */
		pci_cma_forget_session(pdev, data);
		/* The TSM's: only release a first verdict. */
		if (test_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags))
			pci_cma_publish(pdev, PCI_CMA_DISABLED,
					pci_cma_event_names[event], false);
		goto out;
	}
	if (pci_cma_policy_of(pdev) == PCI_CMA_POLICY_OFF) {
		/* A refused request changes nothing. */
		if (event == PCI_CMA_REQUESTED) {
			ret = -EPERM;
			goto out;
		}
		/* No SPDM at all: the device is not authenticated. */
		pci_cma_forget_session(pdev, data);
		result = PCI_CMA_DISABLED;
	} else {
		struct pci_cma_request req = {
			.event = event,
			.require_pcie_san = pci_cma_require_san(pdev),
			.session = pci_cma_want_session(),
		};

		result = pci_cma_ops->authenticate(pdev, data, &req);
		/* Only the PCI core decides that none is needed. */
		if (result == PCI_CMA_PENDING || result == PCI_CMA_DISABLED ||
		    result >= PCI_CMA_RESULTS)
			result = PCI_CMA_ERROR;
		if (result == PCI_CMA_INTERRUPTED)
			ret = -EINTR;
		pci_cma_update_files(pdev, data);
	}
	pci_cma_publish(pdev, result, pci_cma_event_names[event], true);
out:
	mutex_unlock(&cma->lock);
	return ret;
}

/*
 * With cma->lock held, outside an authentication: whether the component
 * may exchange SPDM with @pdev (its state @data), or why not: -ENODEV once
 * the device is being removed, -EBUSY while a TSM holds it, -EPERM under
 * the policy "off".
 */
static int pci_cma_may_talk(struct pci_dev *pdev, void *data)
{
	lockdep_assert_held(&pdev->cma->lock);
	if (!data)
		return -ENODEV;
	if (pci_cma_tsm_owns(pdev))
		return -EBUSY;
	if (pci_cma_policy_of(pdev) == PCI_CMA_POLICY_OFF)
		return -EPERM;
	return 0;
}

/*
 * For a writer of "measurements/refresh": fetch fresh measurements, with
 * cma->lock held as for an authentication.  Changes no verdict.
 */
int pci_cma_measure(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;
	void *data;
	int ret;

	if (!cma)
		return -ENODEV;
	ret = pci_cma_lock_dev(cma, true, &data);
	if (ret)
		return ret;
	ret = pci_cma_may_talk(pdev, data);
	if (!ret)
		ret = pci_cma_ops->measure(pdev, data);
	pci_cma_session_notify(pdev);
	mutex_unlock(&cma->lock);
	return ret;
}

/**
 * pci_cma_session_call() - run @op in the session kept with @pdev
 * @pdev: PCI device
 * @op: what to do
 * @killable: for a writer of a sysfs file: give up when it is killed
 *
 * With cma->lock, as for an authentication.  Returns 0, -ENOTCONN when no
 * session is kept, -EINTR when the writer was killed, or the component's
 * error (the session is then ended).
 */
int pci_cma_session_call(struct pci_dev *pdev, enum pci_cma_session_op op,
			 bool killable)
{
	struct pci_cma *cma = pdev->cma;
	void *data;
	int ret;

	if (!cma)
		return -ENODEV;
	ret = pci_cma_lock_dev(cma, killable, &data);
	if (ret)
		return ret;
	ret = pci_cma_may_talk(pdev, data);
	if (!ret && !READ_ONCE(cma->session_active))
		ret = -ENOTCONN;
	if (!ret)
		ret = pci_cma_ops->session(pdev, data, op);
	pci_cma_session_notify(pdev);
	mutex_unlock(&cma->lock);
	return ret;
}

static void pci_cma_work(struct work_struct *work)
{
	struct pci_cma *cma = container_of(work, struct pci_cma, work);
	struct pci_dev *pdev = cma->pdev;

	pci_cma_attempt(pdev, PCI_CMA_ENUMERATED);
	/* The component has no state for the device (out of memory). */
	mutex_lock(&cma->lock);
	if (test_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags) && !cma->removed)
		pci_cma_publish(pdev, PCI_CMA_ERROR,
				pci_cma_event_names[PCI_CMA_ENUMERATED], true);
	mutex_unlock(&cma->lock);
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
 * never waits for a runtime resume.  A driver that may no longer be bound
 * is unbound later, from a work item.  Does nothing for a device that is
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
	enum pci_cma_policy policy;
	struct pci_cma *cma;

	if (!pci_cma_capable(pdev))
		return;

	policy = pci_cma_resolve(PCI_CMA_POLICY_DEFAULT,
				 READ_ONCE(pci_cma_global_policy.value),
				 pdev->untrusted,
				 READ_ONCE(pci_cma_untrusted_policy.value));
	/* No driver binds before the device's first verdict, unless "off". */
	if (policy != PCI_CMA_POLICY_OFF)
		set_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags);
	cma = kzalloc_obj(*cma, GFP_KERNEL);
	if (!cma) {
		pci_err(pdev, "CMA: not authenticated: out of memory%s\n",
			policy == PCI_CMA_POLICY_ENFORCE ?
			", no driver may bind (policy enforce)" : "");
		/* Fail closed under "enforce": the device stays deferred. */
		if (policy != PCI_CMA_POLICY_ENFORCE)
			clear_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags);
		return;
	}
	cma->pdev = pdev;
	cma->result = PCI_CMA_PENDING;
	cma->allowed = policy == PCI_CMA_POLICY_OFF;
	INIT_WORK(&cma->work, pci_cma_work);
	INIT_WORK(&cma->bind_work, pci_cma_bind_work);
	mutex_init(&cma->lock);
	pci_cma_evidence_init(cma);
	pci_cma_session_init(cma);

	mutex_lock(&pci_cma_lock);
	pdev->cma = cma;
	pci_cma_probe(pdev);
	mutex_unlock(&pci_cma_lock);
}

/**
 * pci_cma_unpublish() - stop changing @pdev's CMA files
 * @pdev: PCI device, about to be removed with device_del()
 *
 * Waits for an authentication in progress; from here on the device's CMA
 * files (certificates, the signature log) are neither added, removed nor
 * re-created, so that none races with device_del() taking the device's
 * directory away.  Attempts may still run until pci_cma_destroy().
 */
void pci_cma_unpublish(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;

	if (!cma)
		return;
	mutex_lock(&cma->lock);
	cma->unpublished = true;
	mutex_unlock(&cma->lock);
}

/**
 * pci_cma_destroy() - tear down CMA for a device being removed
 * @pdev: PCI device, after device_del()
 *
 * Waits for a running authentication and frees the component's state; a
 * late pci_cma_reauthenticate() finds none, and nothing binds or unbinds
 * the device's driver any more.  @pdev->cma itself stays until
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
	/* END_SESSION while the mailbox is still there (pci_doe_destroy()). */
	pci_cma_session_destroy(pdev);
	mutex_lock(&cma->lock);
	data = cma->data;
	WRITE_ONCE(cma->data, NULL);
	mutex_unlock(&cma->lock);
	/* No verdict is published from here on: nothing queues it again. */
	cancel_work_sync(&cma->bind_work);
	if (data)
		pci_cma_ops->remove(pdev, data);
	pci_cma_evidence_destroy(pdev);
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
	pci_cma_session_release(cma);
	mutex_destroy(&cma->lock);
	kfree(cma);
}

/**
 * pci_cma_match() - whether a driver may bind to @pdev now
 * @pdev: PCI device
 *
 * For pci_bus_match(), which every way of binding a driver goes through:
 * at enumeration and when a driver registers, "bind", "drivers_probe" and
 * driver_override.  Returns -EPROBE_DEFER while the device's first verdict
 * is pending, -EPERM when the policy keeps drivers from it, else 0.
 */
int pci_cma_match(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;

	if (test_bit_acquire(PCI_DEV_CMA_PENDING, &pdev->priv_flags))
		return -EPROBE_DEFER;
	if (cma && !READ_ONCE(cma->allowed))
		return -EPERM;
	return 0;
}

/**
 * pci_cma_may_probe() - whether @drv may probe @pdev
 * @pdev: PCI device
 * @drv: the driver about to probe it
 *
 * For pci_device_probe(), as pci_cma_match(): the driver core's "bind"
 * probes without regard to the match's error.  Logs a refusal.
 */
int pci_cma_may_probe(struct pci_dev *pdev, struct pci_driver *drv)
{
	int ret = pci_cma_match(pdev);

	if (ret == -EPERM)
		pci_warn(pdev, "CMA: driver %s may not bind: not authenticated (%s), policy enforce\n",
			 drv->name,
			 pci_cma_result_names[READ_ONCE(pdev->cma->result)]);
	return ret;
}

/* The global policy changed: decide again for every CMA-capable device. */
static void pci_cma_policy_work(struct work_struct *work)
{
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev) {
		struct pci_cma *cma = pdev->cma;

		if (!cma)
			continue;
		mutex_lock(&cma->lock);
		/* A pending verdict is decided under the new policy. */
		if (!cma->removed &&
		    !test_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags))
			pci_cma_publish(pdev, cma->result, PCI_CMA_EVENT_POLICY,
					false);
		mutex_unlock(&cma->lock);
	}
}
static DECLARE_WORK(pci_cma_policy_changed, pci_cma_policy_work);

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
 * Should the component never register (its init failed), decide for the
 * devices held back: not authenticated, so drivers bind unless the policy
 * is "enforce".
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
		if (!pdev->cma ||
		    !test_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags))
			continue;
		pci_warn(pdev, "CMA: not authenticated: CMA component not initialised\n");
		mutex_lock(&pdev->cma->lock);
		pci_cma_publish(pdev, PCI_CMA_ERROR,
				pci_cma_event_names[PCI_CMA_ENUMERATED], true);
		mutex_unlock(&pdev->cma->lock);
	}
	return 0;
}
late_initcall(pci_cma_unclaimed);

/*
 * Parameters (boot: pci_cma.policy=enforce; at run time:
 * /sys/module/pci_cma/parameters/policy), see
 * Documentation/admin-guide/kernel-parameters.txt and
 * Documentation/PCI/cma.rst:
 *   policy            off, warn or enforce (default: CONFIG_PCI_CMA_DEFAULT_POLICY_*)
 *   untrusted_policy  the most lenient policy for devices behind
 *                     external-facing ports (default: enforce)
 *   pcie_san          required (default) or optional: whether the leaf
 *                     certificate must carry the device's PCIe name
 */

static int pci_cma_choice_set(const char *val, const struct kernel_param *kp)
{
	struct pci_cma_choice *c = kp->arg;
	int i = __sysfs_match_string(c->names, c->n, val);

	/* "default" is for a device's own setting only. */
	if (i <= 0)
		return -EINVAL;
	WRITE_ONCE(c->value, i);
	/*
	 * Decide again for every device, in a work item: this runs with
	 * the parameters' lock held, and binding a driver may need it.
	 * Nothing to decide for before the system runs (boot parameters).
	 */
	if (c != &pci_cma_global_san && system_state == SYSTEM_RUNNING)
		queue_work(system_dfl_long_wq, &pci_cma_policy_changed);
	return 0;
}

static int pci_cma_choice_get(char *buf, const struct kernel_param *kp)
{
	const struct pci_cma_choice *c = kp->arg;

	return sysfs_emit(buf, "%s\n", c->names[READ_ONCE(c->value)]);
}

static const struct kernel_param_ops pci_cma_choice_ops = {
	.set = pci_cma_choice_set,
	.get = pci_cma_choice_get,
};

module_param_cb(policy, &pci_cma_choice_ops, &pci_cma_global_policy, 0644);
module_param_cb(untrusted_policy, &pci_cma_choice_ops,
		&pci_cma_untrusted_policy, 0644);
module_param_cb(pcie_san, &pci_cma_choice_ops, &pci_cma_global_san, 0644);

/* sysfs: "authenticated", "cma_policy", "cma_pcie_san" */

static ssize_t authenticated_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct pci_cma *cma = to_pci_dev(dev)->cma;

	return sysfs_emit(buf, "%d\n",
			  cma && READ_ONCE(cma->result) == PCI_CMA_AUTHENTICATED);
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
	/* The driver is bound or unbound as decided when the write returns. */
	flush_work(&pdev->cma->bind_work);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(authenticated);

static ssize_t cma_policy_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct pci_cma *cma = to_pci_dev(dev)->cma;

	return sysfs_emit(buf, "%s\n", pci_cma_policy_names[cma ?
			  READ_ONCE(cma->policy) : PCI_CMA_POLICY_DEFAULT]);
}

/*
 * The device's own policy beats the global one.  Applies to later binds:
 * a driver that may bind now is bound before the write returns; a bound
 * one stays (it is unbound only when an authentication fails under
 * "enforce").
 */
static ssize_t cma_policy_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct pci_dev *pdev = to_pci_dev(dev);
	struct pci_cma *cma = pdev->cma;
	int i = sysfs_match_string(pci_cma_policy_names, buf);
	int ret;

	if (i < 0)
		return -EINVAL;
	if (!cma)
		return -ENODEV;
	ret = mutex_lock_killable(&cma->lock);
	if (ret)
		return ret;
	WRITE_ONCE(cma->policy, i);
	if (!cma->removed && !test_bit(PCI_DEV_CMA_PENDING, &pdev->priv_flags))
		pci_cma_publish(pdev, cma->result, PCI_CMA_EVENT_POLICY, false);
	mutex_unlock(&cma->lock);
	flush_work(&cma->bind_work);
	return count;
}
static DEVICE_ATTR_RW(cma_policy);

static ssize_t cma_pcie_san_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct pci_cma *cma = to_pci_dev(dev)->cma;

	return sysfs_emit(buf, "%s\n", pci_cma_san_names[cma ?
			  READ_ONCE(cma->pcie_san) : PCI_CMA_SAN_DEFAULT]);
}

/* Applies to the next authentication ("re", reset, resume ...). */
static ssize_t cma_pcie_san_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	struct pci_cma *cma = to_pci_dev(dev)->cma;
	int i = sysfs_match_string(pci_cma_san_names, buf);

	if (i < 0)
		return -EINVAL;
	if (!cma)
		return -ENODEV;
	WRITE_ONCE(cma->pcie_san, i);
	return count;
}
static DEVICE_ATTR_RW(cma_pcie_san);

static struct attribute *pci_cma_attrs[] = {
	&dev_attr_authenticated.attr,
	&dev_attr_cma_policy.attr,
	&dev_attr_cma_pcie_san.attr,
	NULL
};

static umode_t pci_cma_attr_visible(struct kobject *kobj,
				    struct attribute *a, int n)
{
	struct pci_dev *pdev = to_pci_dev(kobj_to_dev(kobj));

	if (!pci_cma_capable(pdev))
		return 0;
	/* A link TSM's "authenticated" takes precedence (drivers/pci/tsm.c). */
	if (a == &dev_attr_authenticated.attr &&
	    pci_tsm_shows_authenticated(pdev))
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

#if IS_ENABLED(CONFIG_PCI_CMA_KUNIT_TEST)
#include "core_test.c"
#endif
