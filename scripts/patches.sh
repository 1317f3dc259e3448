#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Maintain patches/ (the edits to existing kernel files) as a git series.
#
#   scripts/patches.sh edit [FILE...]
#                              make $CACHE/patches-git: a git repository with
#                              the pristine versions of every file the series
#                              touches (and of FILE..., to edit them too),
#                              then one commit per patch
#   scripts/patches.sh export  write that repository's commits back to
#                              patches/ with `git format-patch` (numbered,
#                              Signed-off-by, no timestamps in diff headers)
#
# Edit in between with ordinary git (commit --amend, rebase -i, new commits).
# `make kernel` applies patches/ in order with `patch -p1`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

GITDIR=$CACHE/patches-git
NAME=${PATCH_AUTHOR_NAME:-rspdm developers}
EMAIL=${PATCH_AUTHOR_EMAIL:-rspdm@example.org}

edit() {
	[ -d "$PRISTINE" ] || die "no pristine tree: run 'make kernel' once"
	rm -rf "$GITDIR"
	mkdir -p "$GITDIR"
	local f p
	for f in $( (sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$REPO"/patches/*.patch; printf '%s\n' "$@") | sort -u); do
		if [ -f "$PRISTINE/$f" ]; then
			mkdir -p "$GITDIR/$(dirname "$f")"
			cp "$PRISTINE/$f" "$GITDIR/$f"
		fi
	done
	cd "$GITDIR"
	git init -q
	git config user.name "$NAME"
	git config user.email "$EMAIL"
	git add -A
	git commit -qm "pristine linux-source-7.3 files touched by patches/"
	git tag base
	for p in "$REPO"/patches/*.patch; do
		git am -q --keep-cr "$p" || die "$(basename "$p") does not apply"
	done
	log "series in $GITDIR ($(git rev-list --count base..HEAD) patches)"
}

export_series() {
	[ -d "$GITDIR/.git" ] || die "no $GITDIR: run '$0 edit' first"
	rm -f "$REPO"/patches/*.patch
	git -C "$GITDIR" format-patch -q --no-signature --zero-commit -N -s \
		-o "$REPO/patches" base..HEAD
	ls "$REPO/patches"
}

case "${1:-}" in
edit) shift; edit "$@" ;;
export) export_series ;;
*) die "usage: $0 edit|export" ;;
esac
