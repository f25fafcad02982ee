#!/usr/bin/env bash
# The Pages site only moves forward. The pages job of reproduce.yml builds the site from the tip of
# the default branch (after the commit job pushed), inside one concurrency group, and this script
# keeps the state that makes that safe: virtnet-site.json in the deployed site records the commit
# the site was built from, its commit time, and the runs shown although not committed (their commit
# was refused), with their run files published beside it under pending/<run id>/.
#
#   site-state.sh fetch SITE_URL TIP_DIR OUT_DIR
#       Reads SITE_URL/virtnet-site.json (the deployed state; curl, so file:// works too) into
#       OUT_DIR/deployed.json, and downloads each pending run not yet committed in TIP_DIR (the tip's
#       work tree) into OUT_DIR/runs/pending-<run id>/, so the next build keeps showing it.
#   site-state.sh record TIP_DIR DEPLOYED_JSON SITE_DIR RUN_IDS WORKFLOW_RUN
#       Decides whether to deploy (prints deploy=true|false and reason=... lines, for GITHUB_OUTPUT):
#       only when the tip is not older than the deployed commit (the deployed commit is an ancestor
#       of the tip, or the same; for commits git cannot relate, the commit times decide). Writes
#       SITE_DIR/virtnet-site.json and publishes each rendered run (RUN_IDS, comma-separated) that the
#       tip has not committed under SITE_DIR/pending/<run id>/, from the copy render-report wrote
#       into the tip's reports/runs/<run id>/.
set -euo pipefail

die() { echo "site-state.sh: $*" >&2; exit 2; }
# A run id names a directory: letters, digits, '.', '_' and '-' only (site.ts checkRunId).
safe_id() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ ]]; }
# The files a run directory needs to be rendered again (loadRun; what render-report commits).
RUN_FILES=(manifest.json results.jsonl)

committed() { git -C "$1" cat-file -e "HEAD:reports/runs/$2/manifest.json" 2>/dev/null; }

fetch() {
  local url=${1%/} tip=$2 out=$3
  mkdir -p "$out/runs"
  if ! curl -fsSL --max-time 30 "$url/virtnet-site.json" -o "$out/deployed.json" 2>/dev/null || ! jq -e '.commit | strings' "$out/deployed.json" >/dev/null 2>&1; then
    rm -f "$out/deployed.json"
    echo "no deployed state at $url/virtnet-site.json: nothing to compare with, no pending runs to keep"
    return 0
  fi
  local id file kept=0
  while IFS= read -r id; do
    safe_id "$id" || die "$url/virtnet-site.json: pending run id '$id' is not a run id"
    if committed "$tip" "$id"; then
      echo "pending run $id is committed now: the tip's copy is shown"
      continue
    fi
    mkdir -p "$out/runs/pending-$id"
    for file in "${RUN_FILES[@]}"; do
      curl -fsSL --max-time 60 "$url/pending/$id/$file" -o "$out/runs/pending-$id/$file" 2>/dev/null || rm -f "$out/runs/pending-$id/$file"
    done
    if [ ! -f "$out/runs/pending-$id/manifest.json" ]; then
      echo "::warning::pending run $id: its files are gone from the deployed site; it is no longer shown"
      rm -rf "$out/runs/pending-$id"
      continue
    fi
    kept=$((kept + 1))
  done < <(jq -r '.pending[]?.runId' "$out/deployed.json")
  echo "deployed site: commit $(jq -r .commit "$out/deployed.json"); $kept pending run(s) kept"
}

record() {
  local tip=$1 deployed=$2 site=$3 ids=$4 workflow_run=$5
  local sha time reason deploy=true
  sha=$(git -C "$tip" rev-parse HEAD)
  time=$(git -C "$tip" log -1 --format=%ct HEAD)
  if [ ! -f "$deployed" ]; then
    reason="no deployed state: first deployment, or the deployed site could not be read"
  else
    local old old_time
    old=$(jq -r '.commit' "$deployed")
    old_time=$(jq -r '.commitTime' "$deployed")
    [[ "$old" =~ ^[0-9a-f]{40}$ ]] || die "$deployed: commit '$old' is not a commit id"
    [[ "$old_time" =~ ^[0-9]+$ ]] || die "$deployed: commitTime '$old_time' is not a time in seconds"
    if [ "$old" = "$sha" ]; then
      reason="the tip $sha is the deployed commit: rebuilt from it"
    elif git -C "$tip" merge-base --is-ancestor "$old" "$sha" 2>/dev/null; then
      reason="the tip $sha is newer than the deployed commit $old"
    elif git -C "$tip" merge-base --is-ancestor "$sha" "$old" 2>/dev/null; then
      deploy=false
      reason="the tip $sha is older than the deployed commit $old: the site is not moved back"
    elif [ "$time" -ge "$old_time" ]; then
      reason="the tip $sha and the deployed commit $old are unrelated; the tip's commit time is not older"
    else
      deploy=false
      reason="the tip $sha and the deployed commit $old are unrelated, and the tip's commit time is older: the site is not moved back"
    fi
  fi
  local pending='[]' id dir file
  if [ -n "$ids" ]; then
    IFS=',' read -ra list <<< "$ids"
    for id in "${list[@]}"; do
      safe_id "$id" || die "run id '$id' is not a run id"
      committed "$tip" "$id" && continue
      # The rendered copy in the tip's reports/runs/<id>/ (render-report put it there, uncommitted).
      dir="$tip/reports/runs/$id"
      [ -f "$dir/manifest.json" ] || die "run $id was rendered but $dir/manifest.json is missing"
      mkdir -p "$site/pending/$id"
      for file in "${RUN_FILES[@]}"; do
        if [ -f "$dir/$file" ]; then cp "$dir/$file" "$site/pending/$id/$file"; fi
      done
      pending=$(jq -c --arg id "$id" --arg run "$workflow_run" '. + [{runId: $id, workflowRun: $run}]' <<< "$pending")
    done
  fi
  jq -n --arg commit "$sha" --argjson time "$time" --arg run "$workflow_run" --argjson pending "$pending" \
    '{formatVersion: 1, commit: $commit, commitTime: $time, builtBy: $run, pending: $pending}' > "$site/virtnet-site.json"
  echo "deploy=$deploy"
  echo "reason=$reason"
}

case "${1:-}" in
  fetch) [ $# -eq 4 ] || die "usage: site-state.sh fetch SITE_URL TIP_DIR OUT_DIR"; fetch "$2" "$3" "$4" ;;
  record) [ $# -eq 6 ] || die "usage: site-state.sh record TIP_DIR DEPLOYED_JSON SITE_DIR RUN_IDS WORKFLOW_RUN"; record "$2" "$3" "$4" "$5" "$6" ;;
  *) die "usage: site-state.sh fetch|record ..." ;;
esac
