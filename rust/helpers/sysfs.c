// SPDX-License-Identifier: GPL-2.0

#include <linux/sysfs.h>

/*
 * One lockdep class for every attribute that Rust code allocates at run
 * time, as sysfs_attr_init() gives one per call site.
 */
__rust_helper void rust_helper_sysfs_attr_init(struct attribute *attr)
{
	sysfs_attr_init(attr);
}
