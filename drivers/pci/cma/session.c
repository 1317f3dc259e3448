// SPDX-License-Identifier: GPL-2.0
/*
 * PCIe CMA-SPDM: the SPDM secure session the kernel keeps with a device
 * (see Documentation/PCI/cma.rst, "Sessions").
 *
 * When the administrator asks for sessions (pci_cma.sessions=1), the CMA
 * component establishes one (KEY_EXCHANGE, FINISH over secured CMA) after
 * every successful authentication of a device that offers it, fetches the
 * device's measurements through it, and ends it (END_SESSION) when the
 * device is removed.  A reset, resume or recovery loses the device's
 * session state: the authentication that follows establishes a new one.
 *
 * This file shows the session ("session/": established, id, version,
 * secured_version, dhe_group, aead, handshake, heartbeat_period), sends
 * its heartbeats when the device asked for them (HeartbeatPeriod), and
 * lets root update its keys ("session/key_update").  The component
 * reports the session with pci_cma_set_session(), with pdev->cma->lock
 * held; readers take only cma->session_lock.
 */

#include <linux/jiffies.h>
#include <linux/kstrtox.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-cma.h>
#include <linux/pm_runtime.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "core.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "pci_cma."

/* Whether to keep a session with every device that offers one. */
static bool pci_cma_sessions;
module_param_named(sessions, pci_cma_sessions, bool, 0644);
MODULE_PARM_DESC(sessions,
		 "Keep an SPDM secure session with each authenticated device that offers one (default: no)");

bool pci_cma_want_session(void)
{
	return READ_ONCE(pci_cma_sessions);
}

/*
 * Delay to the next heartbeat: half the device's HeartbeatPeriod (it may
 * end a session that is silent for twice the period), at least a second.
 */
static unsigned long pci_cma_heartbeat_delay(u8 period)
{
	return max(secs_to_jiffies(period) / 2, secs_to_jiffies(1));
}

/* With cma->session_lock held: have the next heartbeat sent. */
static void pci_cma_session_arm(struct pci_cma *cma, bool restart)
{
	unsigned long delay;

	lockdep_assert_held(&cma->session_lock);
	if (!cma->session_active || !cma->session.heartbeat_period) {
		cancel_delayed_work(&cma->session_work);
		return;
	}
	delay = pci_cma_heartbeat_delay(cma->session.heartbeat_period);
	/* Freezable: no heartbeat while the system suspends or resumes. */
	if (restart)
		mod_delayed_work(system_freezable_wq, &cma->session_work, delay);
	else
		queue_delayed_work(system_freezable_wq, &cma->session_work,
				   delay);
}

/**
 * pci_cma_set_session() - show the session kept with @pdev
 * @pdev: PCI device
 * @session: the session, NULL when none is kept (any more)
 *
 * For the CMA component, with @pdev->cma->lock held.  Copies @session (its
 * strings are constants) and schedules the heartbeats it needs; a change
 * is announced by the next uevent of the device.
 */
void pci_cma_set_session(struct pci_dev *pdev,
			 const struct pci_cma_session *session)
{
	struct pci_cma *cma = pdev->cma;

	lockdep_assert_held(&cma->lock);
	mutex_lock(&cma->session_lock);
	if (cma->session_active != !!session ||
	    (session && session->id != cma->session.id))
		cma->session_changed = true;
	WRITE_ONCE(cma->session_active, session != NULL);
	if (session)
		cma->session = *session;
	else
		memset(&cma->session, 0, sizeof(cma->session));
	pci_cma_session_arm(cma, true);
	mutex_unlock(&cma->session_lock);
}
EXPORT_SYMBOL_GPL(pci_cma_set_session);

static void pci_cma_session_work(struct work_struct *work)
{
	struct pci_cma *cma = container_of(to_delayed_work(work),
					   struct pci_cma, session_work);
	struct device *dev = &cma->pdev->dev;
	int pm;

	/*
	 * A runtime-suspended device is not woken for a heartbeat: coming
	 * back from D3cold authenticates it and opens a new session, and one
	 * the device ended meanwhile is found out when next used.
	 */
	pm = pm_runtime_get_if_active(dev);
	if (pm) {
		pci_cma_session_call(cma->pdev, PCI_CMA_SESSION_HEARTBEAT,
				     false);
		if (pm > 0)
			pm_runtime_put(dev);
	}
	mutex_lock(&cma->session_lock);
	pci_cma_session_arm(cma, false);
	mutex_unlock(&cma->session_lock);
}

/* For pci_cma_init(). */
void pci_cma_session_init(struct pci_cma *cma)
{
	mutex_init(&cma->session_lock);
	INIT_DELAYED_WORK(&cma->session_work, pci_cma_session_work);
}

/*
 * For pci_cma_destroy(), before the component's state goes: no heartbeat
 * any more, and END_SESSION to a device that is still there.
 */
void pci_cma_session_destroy(struct pci_dev *pdev)
{
	struct pci_cma *cma = pdev->cma;
	bool active;

	disable_delayed_work_sync(&cma->session_work);
	mutex_lock(&cma->session_lock);
	active = cma->session_active;
	mutex_unlock(&cma->session_lock);
	/* A device in D3cold lost the session; one that is gone cannot hear. */
	if (active && !pci_dev_is_disconnected(pdev) &&
	    pdev->current_state != PCI_D3cold)
		pci_cma_session_call(pdev, PCI_CMA_SESSION_END, false);
}

/* For pci_cma_release(). */
void pci_cma_session_release(struct pci_cma *cma)
{
	mutex_destroy(&cma->session_lock);
}

/* sysfs: "session/" */

enum pci_cma_session_field {
	PCI_CMA_SESSION_ESTABLISHED,
	PCI_CMA_SESSION_ID,
	PCI_CMA_SESSION_VERSION,
	PCI_CMA_SESSION_SECURED_VERSION,
	PCI_CMA_SESSION_DHE,
	PCI_CMA_SESSION_AEAD,
	PCI_CMA_SESSION_HANDSHAKE,
	PCI_CMA_SESSION_HEARTBEAT_PERIOD,
};

/* One field of the session shown; -ENODATA when none is kept. */
static ssize_t pci_cma_session_show(struct device *dev, char *buf,
				    enum pci_cma_session_field field)
{
	struct pci_cma *cma = to_pci_dev(dev)->cma;
	const struct pci_cma_session *s;
	ssize_t ret;

	if (!cma)
		return -ENODEV;
	mutex_lock(&cma->session_lock);
	s = &cma->session;
	if (field == PCI_CMA_SESSION_ESTABLISHED) {
		ret = sysfs_emit(buf, "%d\n", cma->session_active);
		goto out;
	}
	if (!cma->session_active) {
		ret = -ENODATA;
		goto out;
	}
	switch (field) {
	case PCI_CMA_SESSION_ID:
		ret = sysfs_emit(buf, "0x%08x\n", s->id);
		break;
	case PCI_CMA_SESSION_VERSION:
		ret = sysfs_emit(buf, "%u.%u\n", s->version >> 4,
				 s->version & 0xf);
		break;
	case PCI_CMA_SESSION_SECURED_VERSION:
		ret = sysfs_emit(buf, "%u.%u\n", s->secured_version >> 12,
				 (s->secured_version >> 8) & 0xf);
		break;
	case PCI_CMA_SESSION_DHE:
		ret = sysfs_emit(buf, "%s\n", s->dhe);
		break;
	case PCI_CMA_SESSION_AEAD:
		ret = sysfs_emit(buf, "%s\n", s->aead);
		break;
	case PCI_CMA_SESSION_HANDSHAKE:
		ret = sysfs_emit(buf, "%s\n", s->encrypted_handshake ?
				 "encrypted" : "clear");
		break;
	case PCI_CMA_SESSION_HEARTBEAT_PERIOD:
		ret = sysfs_emit(buf, "%u\n", s->heartbeat_period);
		break;
	default:
		ret = -EINVAL;
	}
out:
	mutex_unlock(&cma->session_lock);
	return ret;
}

#define PCI_CMA_SESSION_ATTR(_name, _field)				\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return pci_cma_session_show(dev, buf, _field);			\
}									\
static DEVICE_ATTR_RO(_name)

PCI_CMA_SESSION_ATTR(established, PCI_CMA_SESSION_ESTABLISHED);
PCI_CMA_SESSION_ATTR(id, PCI_CMA_SESSION_ID);
PCI_CMA_SESSION_ATTR(version, PCI_CMA_SESSION_VERSION);
PCI_CMA_SESSION_ATTR(secured_version, PCI_CMA_SESSION_SECURED_VERSION);
PCI_CMA_SESSION_ATTR(dhe_group, PCI_CMA_SESSION_DHE);
PCI_CMA_SESSION_ATTR(aead, PCI_CMA_SESSION_AEAD);
PCI_CMA_SESSION_ATTR(handshake, PCI_CMA_SESSION_HANDSHAKE);
PCI_CMA_SESSION_ATTR(heartbeat_period, PCI_CMA_SESSION_HEARTBEAT_PERIOD);

/* "1": update both directions' keys now (KEY_UPDATE, VerifyNewKey). */
static ssize_t key_update_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	bool yes;
	int ret;

	if (kstrtobool(buf, &yes) || !yes)
		return -EINVAL;
	/* As for "re": resume the device first, outside cma->lock. */
	ret = pm_runtime_resume_and_get(dev);
	if (ret)
		return ret;
	ret = pci_cma_session_call(to_pci_dev(dev), PCI_CMA_SESSION_KEY_UPDATE,
				   true);
	pm_runtime_put(dev);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(key_update);

static struct attribute *pci_cma_session_attrs[] = {
	&dev_attr_established.attr,
	&dev_attr_id.attr,
	&dev_attr_version.attr,
	&dev_attr_secured_version.attr,
	&dev_attr_dhe_group.attr,
	&dev_attr_aead.attr,
	&dev_attr_handshake.attr,
	&dev_attr_heartbeat_period.attr,
	&dev_attr_key_update.attr,
	NULL
};

static bool pci_cma_session_group_visible(struct kobject *kobj)
{
	return pci_cma_capable(to_pci_dev(kobj_to_dev(kobj)));
}
DEFINE_SIMPLE_SYSFS_GROUP_VISIBLE(pci_cma_session);

const struct attribute_group pci_cma_session_group = {
	.name = "session",
	.attrs = pci_cma_session_attrs,
	.is_visible = SYSFS_GROUP_VISIBLE(pci_cma_session),
};
