# The lab stand-in for templates/terraform/eks: built-in resources only, so it runs with no provider
# downloads (the lab has no internet). Same variables and outputs as the real module.
terraform {
  required_version = ">= 1.6"
}
