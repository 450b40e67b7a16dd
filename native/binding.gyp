# The build a user of the published package asks for where no prebuilt binary loads:
#   npm explore teracron -- node-gyp rebuild --directory native
# It lives here, not at the package root, because npm runs `node-gyp rebuild` on install for any
# package with a binding.gyp at its root, even one that says "gypfile": false once it is installed
# from a lockfile (the lockfile does not keep that field), and the published package must install
# without compiling. The binary lands in native/build/Release, where the loader looks first.
{
  "includes": ["addon.gypi"]
}
