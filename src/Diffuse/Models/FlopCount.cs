using Diffuse.Configuration;
namespace Diffuse.Models;

/// <summary>The kinds of layer whose arithmetic <see cref="FlopCount"/> counts.</summary>
public enum FlopKind
{
    /// <summary>A 2-D convolution (3×3, 1×1 or the stride-2 downsampler).</summary>
    Convolution,
    /// <summary>The two batched matrix products of self-attention, QKᵀ and softmax(·)V.</summary>
    AttentionMatmul,
    /// <summary>A fully connected layer (the timestep MLP and each residual block's embedding projection).</summary>
    Linear,
}

/// <summary>
/// The forward FLOPs of one layer. For a convolution <see cref="In"/> and <see cref="Out"/> are the
/// channels, <see cref="Kernel"/> the kernel side and <see cref="Height"/> × <see cref="Width"/> the
/// output's pixels; for a linear layer they are the features, with kernel, height and width 1; for the
/// attention matmuls In = Out = the channels (all heads together), kernel 0 and the tokens H × W.
/// </summary>
public sealed record LayerFlops(string Name, FlopKind Kind, long Flops, int In, int Out, int Kernel, int Height, int Width);

/// <summary>
/// The forward-pass arithmetic of a <see cref="UNet2D"/>, computed from its config by walking the same
/// structure the network builds (the names are the network's module names, so a test can hold the
/// two together). A multiply-add counts as 2 FLOPs; bias additions, normalisations, activations,
/// softmax, resampling, concatenation and the sinusoidal embedding are elementwise and not counted
/// (together well under 1% of the total for the presets). The backward pass costs about twice the
/// forward one, so a training step is about 3× <see cref="Total"/>.
/// </summary>
public sealed class FlopCount
{
    /// <summary>Every counted layer, in the order the forward pass runs them.</summary>
    public IReadOnlyList<LayerFlops> Layers { get; }

    public long Batch { get; }

    FlopCount(IReadOnlyList<LayerFlops> layers, long batch)
    {
        Layers = layers;
        Batch = batch;
    }

    public long Total => Layers.Sum(l => l.Flops);

    /// <summary>The FLOPs of one kind of layer.</summary>
    public long Of(FlopKind kind) => Layers.Where(l => l.Kind == kind).Sum(l => l.Flops);

    /// <summary>
    /// The forward FLOPs of <c>new UNet2D(config)</c> on a batch of <paramref name="batch"/> images, at the
    /// config's image size or, given <paramref name="imageSize"/>, at that size
    /// (<see cref="UNetConfig.ForImages"/>: attention stays at the same levels).
    /// </summary>
    public static FlopCount UNet2D(UNetConfig config, long batch, int? imageSize = null)
    {
        if (batch < 1) throw new DiffuseException($"batch must be at least 1, got {batch}");
        if (imageSize is int size) config = config.ForImages(config.InChannels, size);
        config.Validate();
        var walk = new Walk(batch, config);
        walk.Run();
        return new FlopCount(walk.Layers, batch);
    }

    /// <summary>The FLOPs of a k×k convolution with <paramref name="outHeight"/> × <paramref name="outWidth"/> outputs per channel.</summary>
    public static long Convolution(long batch, int inChannels, int outChannels, int kernel, int outHeight, int outWidth) =>
        2L * batch * inChannels * outChannels * kernel * kernel * outHeight * outWidth;

    /// <summary>QKᵀ plus softmax(·)V over <paramref name="tokens"/> tokens of <paramref name="channels"/> channels (any number of heads): 2 × 2·B·N²·C.</summary>
    public static long AttentionMatmuls(long batch, int channels, int tokens) => 2 * 2L * batch * tokens * tokens * channels;

    sealed class Walk(long batch, UNetConfig config)
    {
        public List<LayerFlops> Layers { get; } = [];

        public void Run()
        {
            int s = config.ImageSize, temb = config.TimeEmbedDim;
            Linear("time_embedding.linear_1", config.BaseChannels, temb);
            Linear("time_embedding.linear_2", temb, temb);
            Conv("conv_in", config.InChannels, config.BaseChannels, 3, s);

            var skips = new Stack<int>([config.BaseChannels]);
            int channels = config.BaseChannels, levels = config.ChannelMult.Length;
            for (int level = 0; level < levels; level++)
            {
                string p = $"down_blocks.{level}";
                int c = config.LevelChannels(level), r = config.LevelResolution(level);
                for (int i = 0; i < config.NumResBlocks; i++)
                {
                    Res($"{p}.resnets.{i}", i == 0 ? channels : c, c, r);
                    if (Attends(level)) Attention($"{p}.attentions.{i}", c, r);
                    skips.Push(c);
                }
                if (level < levels - 1)
                {
                    if (config.ResamplingWithConv) Conv($"{p}.downsamplers.0.conv", c, c, 3, (r + 1) / 2);
                    skips.Push(c);
                }
                channels = c;
            }
            int bottom = config.LevelResolution(levels - 1);
            Res("mid_block.resnets.0", channels, channels, bottom);
            Attention("mid_block.attentions.0", channels, bottom);
            Res("mid_block.resnets.1", channels, channels, bottom);
            for (int level = levels - 1, index = 0; level >= 0; level--, index++)
            {
                string p = $"up_blocks.{index}";
                int c = config.LevelChannels(level), r = config.LevelResolution(level);
                for (int i = 0; i <= config.NumResBlocks; i++)
                {
                    Res($"{p}.resnets.{i}", (i == 0 ? channels : c) + skips.Pop(), c, r);
                    if (Attends(level)) Attention($"{p}.attentions.{i}", c, r);
                }
                if (level > 0 && config.ResamplingWithConv) Conv($"{p}.upsamplers.0.conv", c, c, 3, 2 * r);
                channels = c;
            }
            Conv("conv_out", channels, config.OutChannels, 3, s);
        }

        bool Attends(int level) => (config.AttentionResolutions ?? []).Contains(config.LevelResolution(level));

        void Res(string name, int inChannels, int outChannels, int r)
        {
            Conv($"{name}.conv1", inChannels, outChannels, 3, r);
            Linear($"{name}.time_emb_proj", config.TimeEmbedDim, config.ScaleShift ? 2 * outChannels : outChannels);
            Conv($"{name}.conv2", outChannels, outChannels, 3, r);
            if (inChannels != outChannels) Conv($"{name}.conv_shortcut", inChannels, outChannels, 1, r);
        }

        void Attention(string name, int c, int r)
        {
            Conv($"{name}.to_qkv", c, 3 * c, 1, r);
            Layers.Add(new LayerFlops($"{name}.matmuls", FlopKind.AttentionMatmul, AttentionMatmuls(batch, c, r * r), c, c, 0, r, r));
            Conv($"{name}.proj_out", c, c, 1, r);
        }

        void Conv(string name, int inChannels, int outChannels, int kernel, int r) =>
            Layers.Add(new LayerFlops(name, FlopKind.Convolution, Convolution(batch, inChannels, outChannels, kernel, r, r), inChannels, outChannels, kernel, r, r));

        void Linear(string name, int inFeatures, int outFeatures) =>
            Layers.Add(new LayerFlops(name, FlopKind.Linear, 2L * batch * inFeatures * outFeatures, inFeatures, outFeatures, 1, 1, 1));
    }
}
