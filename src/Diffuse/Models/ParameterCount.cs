using Diffuse.Configuration;

namespace Diffuse.Models;

/// <summary>
/// The number of values in a network's state dict (its parameters; its buffers are not saved), from its config alone, so
/// that a network's memory can be checked and a weight file's size compared before the network is built. Equal to
/// <see cref="DenoiserNetwork.ParameterCount"/> of the built network (a test checks the presets and every option).
/// </summary>
public static class ParameterCount
{
    /// <summary>An <see cref="MlpDenoiser"/>: the time MLP, the input projection, the blocks (LayerNorm, two linears and the time projection), the output.</summary>
    public static long Mlp(MlpConfig config)
    {
        long t = config.TimeEmbedDim, h = config.HiddenDim, d = config.InputDim;
        long block = 2 * h + 2 * Linear(h, h) + Linear(t, h);
        return checked(2 * Linear(t, t) + Linear(d, h) + config.Blocks * block + 2 * h + Linear(h, d));
    }

    /// <summary>
    /// A <see cref="UNet2D"/>: the convolutions and linears of <see cref="FlopCount.UNet2D"/>'s walk, the GroupNorms beside
    /// them, and the embeddings (classes, text encoder, noise level) and cross-attention blocks the walk leaves out.
    /// </summary>
    public static long UNet2D(UNetConfig config)
    {
        checked
        {
            long temb = config.TimeEmbedDim, sum = 0;
            var text = config.TextEncoder;
            foreach (var layer in FlopCount.UNet2D(config, 1).Layers)
            {
                if (layer.Kind == FlopKind.AttentionMatmul) continue;
                sum += (long)layer.Kernel * layer.Kernel * layer.In * layer.Out + layer.Out;
                string name = layer.Name;
                if (name.EndsWith(".conv1", StringComparison.Ordinal)) sum += 2L * layer.In + 2L * layer.Out; // norm1, norm2
                else if (name.EndsWith(".to_qkv", StringComparison.Ordinal))
                {
                    long c = layer.In;
                    sum += 2 * c; // the attention's norm
                    if (text is not null) sum += 2 * c + 2 * Linear(c, c) + 2 * Linear(text.Width, c); // cross-attention: norm, to_q, proj_out, to_k, to_v
                }
                else if (name == "conv_out") sum += 2L * layer.In; // conv_norm_out
            }
            if (config.NumClasses is int classes) sum += (classes + 1L) * temb;
            if (config.NoiseLevelEmbedding) sum += Linear(config.BaseChannels, temb) + Linear(temb, temb);
            if (text is not null) sum += TextEncoder(text) + Linear(text.Width, temb);
            return sum;
        }
    }

    /// <summary>A <see cref="Models.TextEncoder"/>: token and position embeddings, pre-norm transformer layers, the final LayerNorm.</summary>
    public static long TextEncoder(TextEncoderConfig config)
    {
        long w = config.Width;
        long layer = 2 * w + Linear(w, 3 * w) + Linear(w, w) + 2 * w + Linear(w, 4 * w) + Linear(4 * w, w);
        return checked((long)config.VocabSize * w + config.MaxLength * w + config.Layers * layer + 2 * w);
    }

    static long Linear(long inFeatures, long outFeatures) => checked(inFeatures * outFeatures + outFeatures);
}
