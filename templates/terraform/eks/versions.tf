# Provider and module requirements. platctl generates the backend block (platctl_backend.tf) and its
# settings (platctl.tfbackend) from platform.yaml terraform.backend: none is hard-coded here.
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.95, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}
