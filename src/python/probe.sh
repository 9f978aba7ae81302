# Lists the Python environments of an image, one JSON line each (see probe.py).
# $1: distribution to look for (may be empty); $2: an explicit interpreter (may be empty);
# $3: the code of probe.py. Run through the image's entrypoint when it has one, as a task is:
# PATH is then the one the entrypoint makes (an activated conda, micromamba or pixi env).
dist=$1
explicit=$2
probe_py=$3
seen=' '
found=
try_python() { # $1: the interpreter, $2: how it was found
  [ -f "$1" ] && [ -x "$1" ] || return 0
  case "$seen" in *" $1 "*) return 0 ;; esac
  seen="$seen$1 "
  out=$("$1" -c "$probe_py" "$1" "$dist" "$2" 2>/dev/null) || return 0
  printf '%s\n' "$out"
  case "$out" in *'"dist": {'*) found=1 ;; esac
}
if [ -n "$explicit" ]; then
  try_python "$explicit" given
  [ -f "$explicit" ] || echo "{\"missing\": true}"
  exit 0
fi
IFS=:
for d in $PATH; do try_python "$d/python3" PATH; try_python "$d/python" PATH; done
unset IFS
for d in /opt/venv/bin /venv/bin /opt/conda/envs/*/bin /opt/conda/bin /opt/*/bin /usr/local/bin /usr/bin; do
  try_python "$d/python3" list; try_python "$d/python" list
done
# No interpreter found so far has the distribution: look for its metadata on the file system,
# then ask the interpreter of the environment it is in (PREFIX/lib/pythonX.Y/site-packages).
if [ -n "$dist" ] && [ -z "$found" ]; then
  pattern=$(printf '%s' "$dist" | sed 's/[-_.][-_.]*/[-_.]/g')
  find / -xdev \( -path /proc -o -path /sys -o -path /dev \) -prune -o \
    \( -iname "$pattern-[0-9]*.dist-info" -o -iname "$pattern-[0-9]*.egg-info" -o -iname "$pattern.egg-info" -o -iname "$pattern.egg-link" \) -print 2>/dev/null |
    while IFS= read -r meta; do
      site=${meta%/*}
      case "$site" in
        */lib/python3*/site-packages | */lib/python3*/dist-packages) prefix=${site%/lib/python3*} ;;
        *) continue ;;
      esac
      version=${site#"$prefix"/lib/}
      version=${version%%/*}
      for p in "$prefix/bin/$version" "$prefix/bin/python3" "$prefix/bin/python"; do try_python "$p" search; done
    done
fi
exit 0
