/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCIe Component Measurement and Authentication (CMA-SPDM): the interface
 * between the PCI core and the component that authenticates devices
 * (drivers/pci/cma/, written in Rust; see Documentation/PCI/cma.rst).
 */
#ifndef LINUX_PCI_CMA_H
#define LINUX_PCI_CMA_H

#include <linux/mutex_types.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/* SPDM certificate slots: certificates/slot0 .. slot7 */
#define PCI_CMA_SLOTS 8
/* Size of SPDM nonces (signatures/N_requester_nonce, next_requester_nonce) */
#define PCI_CMA_NONCE_SIZE 32

struct pci_dev;
struct pci_cma_meas;

/**
 * enum pci_cma_event - why a device is authenticated
 * @PCI_CMA_ENUMERATED: the device was added (boot, hot-plug, rescan)
 * @PCI_CMA_REQUESTED: user space wrote "re" to ``authenticated``
 * @PCI_CMA_RESUMED: system resume (suspend-to-RAM, suspend-to-idle) or
 *	restore from hibernation
 * @PCI_CMA_RUNTIME_RESUMED: runtime resume from D3cold
 * @PCI_CMA_RESET: the device was reset (function, bus or slot reset)
 * @PCI_CMA_RECOVERED: AER or DPC error recovery
 *
 * After the last four the device may have lost its SPDM state or been
 * replaced; the component may check it is the one it knew (a fast
 * re-authentication from cached state) rather than authenticate it in full.
 */
enum pci_cma_event {
	PCI_CMA_ENUMERATED,
	PCI_CMA_REQUESTED,
	PCI_CMA_RESUMED,
	PCI_CMA_RUNTIME_RESUMED,
	PCI_CMA_RESET,
	PCI_CMA_RECOVERED,
};

/**
 * enum pci_cma_result - a CMA-capable device's verdict
 * @PCI_CMA_PENDING: not authenticated yet (between enumeration and the
 *	first verdict; driver matching is held back meanwhile)
 * @PCI_CMA_AUTHENTICATED: the device proved its identity with a
 *	certificate chain to a trusted root
 * @PCI_CMA_DISABLED: not authenticated: the policy is ``off`` for the
 *	device, no SPDM was sent
 * @PCI_CMA_UNTRUSTED: the chain does not lead to a trusted root, breaks
 *	the chain rules (validity, key usage, names) or its RootHash is wrong
 * @PCI_CMA_IDENTITY: the leaf certificate does not name the device (PCIe
 *	Subject Alternative Name missing or naming another device)
 * @PCI_CMA_SIGNATURE: the device's signature does not verify
 * @PCI_CMA_UNSUPPORTED: no common SPDM version, algorithm or capability
 * @PCI_CMA_PROTOCOL: the device broke the SPDM protocol or its work bounds
 * @PCI_CMA_TRANSPORT: the mailbox failed, timed out or is gone, or the
 *	device took longer than the attempt's time budget
 * @PCI_CMA_INTERRUPTED: the writer of ``re`` was killed
 * @PCI_CMA_ERROR: a local failure (out of memory, no CMA component)
 *
 * Each has a keyword, the ``SPDM_REASON`` of the device's uevents
 * (drivers/pci/cma/core.c, Documentation/ABI/testing/sysfs-devices-spdm).
 */
enum pci_cma_result {
	PCI_CMA_PENDING,
	PCI_CMA_AUTHENTICATED,
	PCI_CMA_DISABLED,
	PCI_CMA_UNTRUSTED,
	PCI_CMA_IDENTITY,
	PCI_CMA_SIGNATURE,
	PCI_CMA_UNSUPPORTED,
	PCI_CMA_PROTOCOL,
	PCI_CMA_TRANSPORT,
	PCI_CMA_INTERRUPTED,
	PCI_CMA_ERROR,
	PCI_CMA_RESULTS
};

/**
 * struct pci_cma_request - what the PCI core asks of an authentication
 * @event: why
 * @require_pcie_san: the leaf certificate must carry a PCIe Subject
 *	Alternative Name (else only a name it carries must match)
 * @session: once the device is authenticated, keep an SPDM secure session
 *	with it if it offers one (``pci_cma.sessions``); else end the one
 *	kept
 */
struct pci_cma_request {
	enum pci_cma_event event;
	bool require_pcie_san;
	bool session;
};

/**
 * struct pci_cma_session - an SPDM secure session kept with a device, as
 *	``session/`` shows it
 * @id: the SessionID (the device's half in bits 31:16)
 * @version: the SPDM version of the session (SPDMVersion: major in bits
 *	7:4, minor in 3:0)
 * @secured_version: the DSP0277 secured message version (major in bits
 *	15:12, minor in 11:8)
 * @dhe: the DHE group, a string constant ("secp256r1", "secp384r1")
 * @aead: the AEAD, a string constant ("aes-128-gcm", "aes-256-gcm")
 * @encrypted_handshake: FINISH was a secured message (the device does not
 *	offer the handshake in the clear)
 * @heartbeat_period: the device's HeartbeatPeriod in seconds, 0 for none
 */
struct pci_cma_session {
	u32 id;
	u8 version;
	u16 secured_version;
	const char *dhe;
	const char *aead;
	bool encrypted_handshake;
	u8 heartbeat_period;
};

/**
 * enum pci_cma_session_op - what to do in the device's session
 * @PCI_CMA_SESSION_HEARTBEAT: HEARTBEAT, to keep it alive
 * @PCI_CMA_SESSION_KEY_UPDATE: KEY_UPDATE of both directions' keys, then
 *	VerifyNewKey (``session/key_update``)
 * @PCI_CMA_SESSION_END: END_SESSION (the device is being removed)
 * @PCI_CMA_SESSION_FORGET: end it without telling the device (no device
 *	I/O): the policy became ``off`` or a PCI TSM took the device
 */
enum pci_cma_session_op {
	PCI_CMA_SESSION_HEARTBEAT,
	PCI_CMA_SESSION_KEY_UPDATE,
	PCI_CMA_SESSION_END,
	PCI_CMA_SESSION_FORGET,
};

/**
 * struct pci_cma - CMA state of a CMA-capable device (@pdev->cma), owned by
 *	the PCI core (drivers/pci/cma/core.c)
 * @pdev: the device
 * @work: runs the first authentication
 * @bind_work: applies a change of the binding decision in process context
 *	(binds the device's driver, or unbinds it after a failed
 *	re-authentication under ``enforce``)
 * @data: the component's state, NULL until its probe and again once the
 *	device is removed (read locklessly by the sysfs callbacks: set with
 *	smp_store_release())
 * @lock: serialises authentications and their verdicts: the calls of
 *	&pci_cma_ops.authenticate and updates of @result, @allowed,
 *	@slot_size and of the ``certificates`` files.  Taken inside
 *	device_lock() on the reset and resume paths, never around it.
 * @removed: pci_cma_destroy() has begun: no new probe
 * @unpublished: device_del() is about to remove the device's sysfs files
 *	(pci_cma_unpublish()): no CMA file is added, removed or re-created
 *	any more; set under @lock
 * @result: the last verdict (&enum pci_cma_result), read locklessly
 * @allowed: the binding decision of @result under the device's policy:
 *	whether a driver may bind; read locklessly by the match and probe
 *	paths, written before %PCI_DEV_CMA_PENDING is cleared
 * @policy: the device's own policy (``cma_policy``), 0 to follow the global
 * @pcie_san: the device's own PCIe name rule (``cma_pcie_san``), 0 to
 *	follow the global
 * @actions: binding actions for @bind_work (bit numbers in core.c)
 * @slot_size: size of the ``certificates/slotN`` files, 0 where none; the
 *	files are re-created only when a size changes, so a reader of an
 *	unchanged file is not cut off by another verdict
 * @sigs: the signature log (&struct pci_cma_sig, oldest first), changed
 *	under @lock; its files are read without it (drivers/pci/cma/evidence.c)
 * @sig_next: number of the next log entry
 * @sig_bytes: memory the log holds, charged against
 *	``pci_cma.signature_log_size``
 * @nonce: the nonce written to ``signatures/next_requester_nonce``, under
 *	@lock
 * @nonce_set: @nonce is to be used by the next authentication or
 *	measurement refresh
 * @meas_lock: protects @meas, taken inside @lock
 * @meas: the measurements shown (``measurements/record`` and ``blocks``),
 *	NULL when none
 * @session_lock: protects @session and @session_active, taken inside @lock
 * @session: the session shown (``session/``), valid when @session_active
 * @session_active: the component keeps a session with the device
 * @session_changed: @session_active or @session.id changed since the
 *	last uevent; under @lock
 * @session_work: sends the session's heartbeats
 */
struct pci_cma {
	struct pci_dev *pdev;
	struct work_struct work;
	struct work_struct bind_work;
	void *data;
	struct mutex lock;
	bool removed;
	bool unpublished;
	enum pci_cma_result result;
	bool allowed;
	u8 policy;
	u8 pcie_san;
	unsigned long actions;
	size_t slot_size[PCI_CMA_SLOTS];
	struct list_head sigs;
	unsigned int sig_next;
	size_t sig_bytes;
	u8 nonce[PCI_CMA_NONCE_SIZE];
	bool nonce_set;
	struct mutex meas_lock;
	struct pci_cma_meas *meas;
	struct mutex session_lock;
	struct pci_cma_session session;
	bool session_active;
	bool session_changed;
	struct delayed_work session_work;
};

/**
 * enum pci_cma_sig_type - the signed response of a log entry
 *	(``signatures/N_type``)
 * @PCI_CMA_SIG_CHALLENGE_AUTH: CHALLENGE_AUTH (authentication)
 * @PCI_CMA_SIG_MEASUREMENTS: MEASUREMENTS (signed measurements)
 */
enum pci_cma_sig_type {
	PCI_CMA_SIG_CHALLENGE_AUTH,
	PCI_CMA_SIG_MEASUREMENTS,
	PCI_CMA_SIG_TYPES
};

/**
 * struct pci_cma_signature - a signed exchange for the signature log
 * @type: the signed response
 * @hash_algorithm: the negotiated hash, as the crypto API names it
 *	("sha256", "sha384", "sha512")
 * @transcript: the bytes hashed for the signature (M1/M2, L1/L2)
 * @transcript_len: their number
 * @signature: the signature as received
 * @signature_len: its size
 * @combined_spdm_prefix: the signing context before the transcript hash
 *	(SPDM 1.2+), NULL before
 * @combined_spdm_prefix_len: its size (100), 0 when none
 * @requester_nonce: the nonce the kernel sent (%PCI_CMA_NONCE_SIZE bytes)
 * @responder_nonce: the nonce the device sent (%PCI_CMA_NONCE_SIZE bytes)
 * @certificate_chain: the SPDM certificate chain whose leaf key verified
 *	the signature
 * @certificate_chain_len: its size
 */
struct pci_cma_signature {
	enum pci_cma_sig_type type;
	const char *hash_algorithm;
	const u8 *transcript;
	size_t transcript_len;
	const u8 *signature;
	size_t signature_len;
	const u8 *combined_spdm_prefix;
	size_t combined_spdm_prefix_len;
	const u8 *requester_nonce;
	const u8 *responder_nonce;
	const u8 *certificate_chain;
	size_t certificate_chain_len;
};

/**
 * struct pci_cma_ops - operations of the CMA authentication component
 * @probe: allocate the component's state for @pdev, a CMA-capable device
 *	that was just added or that was present when the component
 *	registered.  No device I/O.  Returns the state, kept until @remove,
 *	or NULL.  @ctx is what was passed to pci_cma_register().
 * @authenticate: authenticate @pdev (device I/O) as @req says, with
 *	@pdev->cma->lock held; keep a session with it or end the one kept as
 *	@req->session says, and show it (pci_cma_set_session()).  After
 *	@probe, from a work item, while the device's driver matching is held
 *	back; then on every event of &enum pci_cma_event, from the context
 *	of the event (see Documentation/PCI/cma.rst).  Must not wait for the device's runtime
 *	resume.  Logs the verdict and returns it, never %PCI_CMA_PENDING or
 *	%PCI_CMA_DISABLED; %PCI_CMA_INTERRUPTED when the writer of a
 *	%PCI_CMA_REQUESTED attempt was killed (a fatal signal).
 * @remove: @pdev is being removed: its sysfs files are gone and
 *	@authenticate is not running; free @data.
 * @slot_size: size of the certificate chain of @slot (0..7) kept for the
 *	device; 0 hides the ``certificates/slotN`` file.
 * @slot_read: copy up to @count bytes of the chain of @slot from @off.
 *
 * @measure: fetch fresh measurements of @pdev (device I/O) for a writer of
 *	``measurements/refresh``, with @pdev->cma->lock held; log them and
 *	show them (pci_cma_log_signature(), pci_cma_set_measurements()).
 *	Returns 0, -ENOKEY when the device is not authenticated, -EINTR when
 *	the writer was killed, or another error when the device failed.
 *	Uses the session kept with the device, if any.
 * @session: run @op in the session kept with @pdev (device I/O), with
 *	@pdev->cma->lock held; a session that fails is ended and no longer
 *	shown.  Returns 0, -ENOTCONN when no session is kept, -EINTR when
 *	the writer of ``session/key_update`` was killed, or another error
 *	when the device failed.
 *
 * All operations may sleep.
 */
struct pci_cma_ops {
	void *(*probe)(struct pci_dev *pdev, void *ctx);
	enum pci_cma_result (*authenticate)(struct pci_dev *pdev, void *data,
					    const struct pci_cma_request *req);
	void (*remove)(struct pci_dev *pdev, void *data);
	size_t (*slot_size)(struct pci_dev *pdev, void *data, unsigned int slot);
	ssize_t (*slot_read)(struct pci_dev *pdev, void *data, unsigned int slot,
			     char *buf, loff_t off, size_t count);
	int (*measure)(struct pci_dev *pdev, void *data);
	int (*session)(struct pci_dev *pdev, void *data,
		       enum pci_cma_session_op op);
};

int pci_cma_register(const struct pci_cma_ops *ops, void *ctx);
bool pci_cma_tsm_owns(struct pci_dev *pdev);
int pci_cma_log_signature(struct pci_dev *pdev,
			  const struct pci_cma_signature *sig);
bool pci_cma_take_nonce(struct pci_dev *pdev, u8 *nonce);
int pci_cma_set_measurements(struct pci_dev *pdev, const u8 *record,
			     size_t record_len, const u8 *blocks,
			     size_t blocks_len);
void pci_cma_set_session(struct pci_dev *pdev,
			 const struct pci_cma_session *session);

#endif /* LINUX_PCI_CMA_H */
