/* SPDX-License-Identifier: GPL-2.0 */
/* PCIe CMA-SPDM: shared by the PCI core side's files (core.c, evidence.c, session.c). */
#ifndef DRIVERS_PCI_CMA_CORE_H
#define DRIVERS_PCI_CMA_CORE_H

#include <linux/types.h>

enum pci_cma_session_op;

struct pci_cma;
struct pci_dev;

/* core.c */
bool pci_cma_capable(struct pci_dev *pdev);
int pci_cma_measure(struct pci_dev *pdev);
int pci_cma_session_call(struct pci_dev *pdev, enum pci_cma_session_op op,
			 bool killable);

/* evidence.c */
void pci_cma_evidence_init(struct pci_cma *cma);
void pci_cma_evidence_destroy(struct pci_dev *pdev);

/* session.c */
bool pci_cma_want_session(void);
void pci_cma_session_init(struct pci_cma *cma);
void pci_cma_session_destroy(struct pci_dev *pdev);
void pci_cma_session_release(struct pci_cma *cma);

#endif /* DRIVERS_PCI_CMA_CORE_H */
