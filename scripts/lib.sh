# Shell helpers shared by scripts/run, scripts/test and .ci/run (sourced, not run).
# Callers set ROOT (the checkout) and NAME (how messages are signed) first.
# shellcheck shell=bash

say() { printf '%s: %s\n' "$NAME" "$*" >&2; }
die() { say "$*"; exit 1; }
debian_root() { [[ -f /etc/debian_version && $EUID -eq 0 ]]; }

apt_updated=
apt_install() { # package...: apt-get them (non-interactive, no recommends)
  [[ -n $apt_updated ]] || { apt-get update -q; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# ensure_venv REQUIREMENTS: .venv with REQUIREMENTS installed, reinstalled only when it (or a
# file it includes) changes.
ensure_venv() {
  local requirements=$1 stamp want
  if [[ ! -x $ROOT/.venv/bin/python ]]; then
    command -v python3 >/dev/null ||
      die "python3 (3.11 or newer) is needed; on Debian: apt-get install python3 python3-venv"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
      die "Python 3.11 or newer is needed; python3 is $(python3 -V 2>&1)"
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
      debian_root || die "python3 cannot create a venv; on Debian: sudo apt-get install python3-venv"
      apt_install python3-venv
    fi
    say "creating .venv"
    python3 -m venv "$ROOT/.venv"
  fi
  stamp=$ROOT/.venv/.$(basename "$requirements" .txt).sha256
  want=$(cd "$ROOT" && cat requirements*.txt | sha256sum | cut -d' ' -f1)
  if [[ $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
    say "installing $(basename "$requirements") into .venv (a minute or two the first time)"
    "$ROOT/.venv/bin/python" -m pip install -q -r "$requirements"
    echo "$want" >"$stamp"
    # requirements-dev.txt includes requirements.txt, so scripts/run need not install again.
    [[ $requirements != *-dev.txt ]] || echo "$want" >"$ROOT/.venv/.requirements.sha256"
  fi
}

# ensure_programs PROGRAM=PACKAGE...: install the Debian packages of the programs that are not
# on PATH (as root on Debian), or stop and say how to get them.
ensure_programs() {
  local pair program missing=() packages=()
  for pair in "$@"; do
    program=${pair%%=*}
    if [[ $program == /* ]]; then [[ -e $program ]] && continue
    else command -v "$program" >/dev/null && continue; fi
    missing+=("$program")
    packages+=("${pair#*=}")
  done
  ((${#missing[@]})) || return 0
  debian_root || die "missing: ${missing[*]}. Install them first; on Debian/Ubuntu:
    sudo apt-get install ${packages[*]}"
  say "installing ${packages[*]} with apt-get (missing: ${missing[*]})"
  apt_install "${packages[@]}"
}
