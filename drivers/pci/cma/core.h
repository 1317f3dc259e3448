/* SPDX-License-Identifier: GPL-2.0 */
/* PCIe CMA-SPDM: shared by the PCI core side's files (core.c, evidence.c). */
#ifndef DRIVERS_PCI_CMA_CORE_H
#define DRIVERS_PCI_CMA_CORE_H

#include <linux/types.h>

struct pci_cma;
struct pci_dev;

/* core.c */
bool pci_cma_capable(struct pci_dev *pdev);
int pci_cma_measure(struct pci_dev *pdev);

/* evidence.c */
void pci_cma_evidence_init(struct pci_cma *cma);
void pci_cma_evidence_destroy(struct pci_dev *pdev);

#endif /* DRIVERS_PCI_CMA_CORE_H */
