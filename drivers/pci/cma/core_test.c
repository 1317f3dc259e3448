// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the PCI core side of CMA (core.c, which includes this
 * file): the driver-binding policy rules and the names of the ABI.
 */

#include <kunit/test.h>

static const enum pci_cma_policy pci_cma_test_policies[] = {
	PCI_CMA_POLICY_OFF, PCI_CMA_POLICY_WARN, PCI_CMA_POLICY_ENFORCE,
};

/* A device's own policy beats the global one, both ways. */
static void pci_cma_test_own_policy_wins(struct kunit *test)
{
	unsigned int i, j, k;

	for (i = 0; i < ARRAY_SIZE(pci_cma_test_policies); i++)
		for (j = 0; j < ARRAY_SIZE(pci_cma_test_policies); j++)
			for (k = 0; k < 2; k++)
				KUNIT_EXPECT_EQ(test,
					pci_cma_resolve(pci_cma_test_policies[i],
							pci_cma_test_policies[j], k,
							PCI_CMA_POLICY_ENFORCE),
					pci_cma_test_policies[i]);
}

/* Without one: the global policy; behind an external-facing port at least
 * the untrusted policy, never more lenient than the global one. */
static void pci_cma_test_default_policy(struct kunit *test)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(pci_cma_test_policies); i++) {
		enum pci_cma_policy global = pci_cma_test_policies[i];

		KUNIT_EXPECT_EQ(test,
				pci_cma_resolve(PCI_CMA_POLICY_DEFAULT, global,
						false, PCI_CMA_POLICY_ENFORCE),
				global);
		KUNIT_EXPECT_EQ(test,
				pci_cma_resolve(PCI_CMA_POLICY_DEFAULT, global,
						true, PCI_CMA_POLICY_ENFORCE),
				PCI_CMA_POLICY_ENFORCE);
		for (j = 0; j < ARRAY_SIZE(pci_cma_test_policies); j++) {
			enum pci_cma_policy untrusted = pci_cma_test_policies[j];
			enum pci_cma_policy got;

			got = pci_cma_resolve(PCI_CMA_POLICY_DEFAULT, global,
					      true, untrusted);
			KUNIT_EXPECT_EQ(test, got, max(global, untrusted));
			KUNIT_EXPECT_GE(test, got, global);
		}
	}
}

/* Only "enforce" keeps drivers away, and only from a device that is not
 * authenticated, whatever the reason (pending is held back elsewhere). */
static void pci_cma_test_decide(struct kunit *test)
{
	enum pci_cma_result r;

	for (r = PCI_CMA_PENDING; r < PCI_CMA_RESULTS; r++) {
		KUNIT_EXPECT_TRUE(test, pci_cma_decide(PCI_CMA_POLICY_OFF, r));
		KUNIT_EXPECT_TRUE(test, pci_cma_decide(PCI_CMA_POLICY_WARN, r));
		KUNIT_EXPECT_EQ(test, pci_cma_decide(PCI_CMA_POLICY_ENFORCE, r),
				r == PCI_CMA_AUTHENTICATED);
	}
}

/* The uevent keywords: one per result and event, distinct. */
static void pci_cma_test_names(struct kunit *test)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(pci_cma_result_names); i++) {
		KUNIT_ASSERT_NOT_NULL(test, pci_cma_result_names[i]);
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_STRNEQ(test, pci_cma_result_names[i],
					    pci_cma_result_names[j]);
	}
	KUNIT_EXPECT_EQ(test, ARRAY_SIZE(pci_cma_event_names),
			PCI_CMA_RECOVERED + 1);
	for (i = 0; i < ARRAY_SIZE(pci_cma_event_names); i++) {
		KUNIT_ASSERT_NOT_NULL(test, pci_cma_event_names[i]);
		KUNIT_EXPECT_STRNEQ(test, pci_cma_event_names[i],
				    PCI_CMA_EVENT_POLICY);
	}
}

/* Global settings take a keyword (a trailing newline allowed), not
 * "default", and keep their value when refused. */
static void pci_cma_test_choice_set(struct kunit *test)
{
	static const char * const bad[] = {
		"default", "", "enforced", "ENFORCE", "1", "warn off",
	};
	struct pci_cma_choice c = {
		PCI_CMA_POLICY_WARN, pci_cma_policy_names,
		ARRAY_SIZE(pci_cma_policy_names)
	};
	struct kernel_param kp = { .arg = &c };
	/* sysfs_emit() wants a page. */
	char *buf = (char *)get_zeroed_page(GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);

	KUNIT_EXPECT_EQ(test, pci_cma_choice_set("enforce\n", &kp), 0);
	KUNIT_EXPECT_EQ(test, c.value, PCI_CMA_POLICY_ENFORCE);
	KUNIT_EXPECT_EQ(test, pci_cma_choice_set("off", &kp), 0);
	KUNIT_EXPECT_EQ(test, c.value, PCI_CMA_POLICY_OFF);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ(test, pci_cma_choice_set(bad[i], &kp), -EINVAL);
		KUNIT_EXPECT_EQ(test, c.value, PCI_CMA_POLICY_OFF);
	}
	KUNIT_EXPECT_EQ(test, pci_cma_choice_get(buf, &kp), 4);
	KUNIT_EXPECT_STREQ(test, buf, "off\n");
	free_page((unsigned long)buf);
}

static struct kunit_case pci_cma_core_test_cases[] = {
	KUNIT_CASE(pci_cma_test_own_policy_wins),
	KUNIT_CASE(pci_cma_test_default_policy),
	KUNIT_CASE(pci_cma_test_decide),
	KUNIT_CASE(pci_cma_test_names),
	KUNIT_CASE(pci_cma_test_choice_set),
	{}
};

static struct kunit_suite pci_cma_core_test_suite = {
	.name = "pci_cma_core",
	.test_cases = pci_cma_core_test_cases,
};

kunit_test_suite(pci_cma_core_test_suite);
