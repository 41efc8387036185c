using System.Text.Json.Serialization;

namespace Diffuse.Configuration;

/// <summary>The number format of the network's forward and backward passes during training.</summary>
public enum TrainingPrecision
{
    /// <summary><c>fp32</c>: everything in float32.</summary>
    [JsonStringEnumMemberName("fp32")]
    Fp32,
    /// <summary>
    /// <c>bf16</c>: mixed precision (Micikevicius et al. 2018, arXiv:1710.03740, Sec. 3.1, with bfloat16 so that no loss
    /// scaling is needed): the forward and backward passes run on a bfloat16 working copy of the network, refreshed from
    /// the float32 master weights before each step; its gradients are added in float32 onto the master weights, which
    /// AdamW (with float32 moments), gradient clipping and the EMA update. The loss and the noise-schedule math stay in float32.
    /// </summary>
    [JsonStringEnumMemberName("bf16")]
    Bf16,
}
