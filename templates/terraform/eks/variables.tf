# Inputs. platctl writes cluster_name, region, kubernetes_version, vpc_cidr and tags into
# platctl.tfvars.json from platform.yaml; the rest can be set under terraform.variables.

variable "cluster_name" {
  description = "EKS cluster name (platform.yaml clusters[].name)."
  type        = string
}

variable "region" {
  description = "AWS region (platform.yaml aws.region)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, such as 1.34."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the cluster's VPC, /16 to /20 (private subnets are 1/16 of it each, public ones 1/256)."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR from /16 to /20 (the public subnets are 1/256 of it, and AWS's smallest subnet is a /28)."
  }
}

variable "tags" {
  description = "Tags for every resource (platctl.io/cluster, platctl.io/step and aws.tags)."
  type        = map(string)
  default     = {}
}

# The managed node group.
variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Minimum nodes in the managed node group."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Maximum nodes in the managed node group."
  type        = number
  default     = 5
}

variable "node_desired_size" {
  description = "Nodes the managed node group starts with. Takes effect only when the node group is created: the eks module ignores later changes to it (lifecycle ignore_changes), so the cluster autoscaler or a person can scale the group without Terraform undoing it. To resize later, change node_min_size/node_max_size or scale the group itself."
  type        = number
  default     = 3
}

variable "az_count" {
  description = "Availability zones to spread subnets (and nodes) over, 2 to 6 (EKS needs subnets in at least two zones; no region has more than six)."
  type        = number
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 2 to 6."
  }
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API is reachable from the internet (platctl runs from outside the VPC)."
  type        = bool
  default     = true
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}
