# The same variables as templates/terraform/eks/variables.tf. platctl writes cluster_name, region,
# kubernetes_version, vpc_cidr and tags into platctl.tfvars.json; the rest come from terraform.variables.

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
  description = "CIDR of the cluster's VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "tags" {
  description = "Tags for every resource (platctl.io/cluster, platctl.io/step and aws.tags)."
  type        = map(string)
  default     = {}
}

# Node group sizing: used by the real module; declared here so one config works with both.
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
  description = "Desired nodes in the managed node group."
  type        = number
  default     = 3
}

# Used by the real module only; declared here so one config works with both.
variable "az_count" {
  description = "Availability zones to spread subnets (and nodes) over."
  type        = number
  default     = 3
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
