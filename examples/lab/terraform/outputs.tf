# The same outputs as templates/terraform/eks/outputs.tf; platctl records them as the cluster step's
# outputs (cluster_name → clusterName, …).

output "cluster_name" {
  description = "EKS cluster name."
  value       = data.terraform_remote_state.moto.outputs.cluster_name
}

output "endpoint" {
  description = "Kubernetes API endpoint (in the lab: the lab's kube-apiserver)."
  value       = data.terraform_remote_state.moto.outputs.endpoint
}

output "oidc_issuer" {
  description = "The cluster's OIDC issuer URL (for IRSA)."
  value       = data.terraform_remote_state.moto.outputs.oidc_issuer
}

output "vpc_id" {
  description = "The cluster's VPC."
  value       = data.terraform_remote_state.moto.outputs.vpc_id
}

output "cluster_additional_security_group_id" {
  description = "The control plane's additional security group (in the lab: a moto security group)."
  value       = data.terraform_remote_state.moto.outputs.cluster_additional_security_group_id
}

output "node_shared_security_group_id" {
  description = "The security group shared by the nodes (in the lab: a moto security group)."
  value       = data.terraform_remote_state.moto.outputs.node_shared_security_group_id
}

output "private_subnet_ids" {
  description = "The private subnets, one per zone (in the lab: moto subnets, the template's layout)."
  value       = data.terraform_remote_state.moto.outputs.private_subnet_ids
}

output "public_subnet_ids" {
  description = "The public subnets, one per zone (in the lab: moto subnets, the template's layout)."
  value       = data.terraform_remote_state.moto.outputs.public_subnet_ids
}
