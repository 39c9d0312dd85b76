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

output "cluster_security_group_id" {
  description = "Security group of the control plane."
  value       = data.terraform_remote_state.moto.outputs.cluster_security_group_id
}

output "node_security_group_id" {
  description = "Security group shared by the nodes."
  value       = data.terraform_remote_state.moto.outputs.node_security_group_id
}
