# The repository's build (npm ci, prebuildify); the target is in native/addon.gypi.
{
  "includes": ["native/addon.gypi"]
}
