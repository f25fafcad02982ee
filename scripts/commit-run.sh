#!/usr/bin/env bash
# Commits a folder written in the work tree (e.g. reports/runs/<run id>) to a branch and pushes it.
# A rejected push (another job pushed first) is handled by redoing the whole cycle: fetch the
# branch again, lay the folder onto it in a fresh worktree, commit, push. Never a force push.
# A push that branch protection or a ruleset refuses (GitHub's GH006 / GH013) is not retried: no
# retry can pass it. The script then exits 3 with what to change.
#
#   scripts/commit-run.sh FOLDER MESSAGE [BRANCH]     (COMMIT_ATTEMPTS, default 5)
set -euo pipefail

folder=${1:?usage: commit-run.sh FOLDER MESSAGE [BRANCH]}
message=${2:?usage: commit-run.sh FOLDER MESSAGE [BRANCH]}
branch=${3:-main}
attempts=${COMMIT_ATTEMPTS:-5}
case "$folder" in /* | *..*) echo "commit-run: FOLDER must be a relative path inside the repository, got $folder" >&2; exit 2 ;; esac
[ -d "$folder" ] || { echo "commit-run: $folder does not exist" >&2; exit 2; }

snapshot=$(mktemp -d)
cp -a "$folder/." "$snapshot/"
worktree=""
cleanup() {
  if [ -n "$worktree" ]; then git worktree remove --force "$worktree" >/dev/null 2>&1 || true; worktree=""; fi
}
trap 'cleanup; rm -rf "$snapshot" "$snapshot.push-err"' EXIT

for attempt in $(seq 1 "$attempts"); do
  git fetch --quiet origin "$branch"
  worktree=$(mktemp -d)
  git worktree add --quiet --detach "$worktree" FETCH_HEAD
  mkdir -p "$worktree/$folder"
  cp -a "$snapshot/." "$worktree/$folder/"
  git -C "$worktree" add -- "$folder"
  if git -C "$worktree" diff --cached --quiet; then
    echo "commit-run: $folder is already on $branch as it is: nothing to commit"
    exit 0
  fi
  git -C "$worktree" commit --quiet -m "$message"
  if git -C "$worktree" push --quiet origin "HEAD:refs/heads/$branch" 2>"$snapshot.push-err"; then
    echo "commit-run: pushed $(git -C "$worktree" rev-parse --short HEAD) to $branch (attempt $attempt)"
    exit 0
  fi
  cat "$snapshot.push-err" >&2
  if grep -qiE 'GH006|GH013|protected branch|rule violations' "$snapshot.push-err"; then
    echo "commit-run: $branch is protected and refused the push (branch protection or a ruleset: GH006/GH013); retrying cannot pass it." >&2
    echo "commit-run: the default GITHUB_TOKEN pushes as github-actions[bot], which cannot be exempted from a ruleset. Either store a token of an actor that may bypass the rule (a GitHub App installation token or a fine-grained personal access token with Contents: write) as the repository secret VIRTNET_PUSH_TOKEN, or exempt reports/ from the protection. The run itself is in the job's artifacts and on the site." >&2
    exit 3
  fi
  echo "commit-run: push rejected (attempt $attempt of $attempts): fetching $branch again and redoing the commit"
  cleanup
  sleep $((attempt * 2))
done
echo "commit-run: could not push $folder to $branch after $attempts attempts" >&2
exit 1
