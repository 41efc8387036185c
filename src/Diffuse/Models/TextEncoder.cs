using Diffuse.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// A small transformer text encoder trained from scratch with the denoiser: token ids [B, L] (int64, L at most
/// <see cref="TextEncoderConfig.MaxLength"/>, id 0 = [PAD]) to their states [B, L, D] after learned token and position
/// embeddings, <see cref="TextEncoderConfig.Layers"/> pre-norm <see cref="TransformerLayer"/>s and a final LayerNorm, with
/// the key mask (true where the token is not padding). Position 0 holds [CLS], whose state is the pooled summary.
/// </summary>
internal sealed class TextEncoder : nn.Module<Tensor, TextContext>
{
    private readonly Embedding token_embedding;
    private readonly Embedding position_embedding;
    private readonly ModuleList<TransformerLayer> layers = new();
    private readonly LayerNorm final_norm;

    public TextEncoderConfig Config { get; }

    public TextEncoder(TextEncoderConfig config) : base(nameof(TextEncoder))
    {
        config.Validate();
        Config = config;
        token_embedding = nn.Embedding(config.VocabSize, config.Width);
        position_embedding = nn.Embedding(config.MaxLength, config.Width);
        for (int i = 0; i < config.Layers; i++) layers.Add(new TransformerLayer(config.Width, config.Heads));
        final_norm = nn.LayerNorm(config.Width);
        RegisterComponents();
    }

    public override TextContext forward(Tensor tokens)
    {
        if (tokens.dim() != 2 || tokens.shape[1] < 1 || tokens.shape[1] > Config.MaxLength)
            throw new DiffuseException($"the text encoder expects token ids of shape [B, L] with 1 <= L <= {Config.MaxLength}, got [{string.Join(", ", tokens.shape)}]");
        using var scope = NewDisposeScope();
        var ids = tokens.to(ScalarType.Int64);
        var mask = ids.ne(TextEncoderConfig.PadId);
        var context = Encode(ids, mask);
        return new TextContext(context.Hidden.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The states [B, L, D] of <paramref name="tokens"/> under an explicit key mask [B, L] (true = attend). The states at
    /// attended positions do not depend on the tokens at masked ones.
    /// </summary>
    public TextContext Encode(Tensor tokens, Tensor mask)
    {
        using var scope = NewDisposeScope();
        long length = tokens.shape[1];
        var positions = arange(length, ScalarType.Int64, tokens.device);
        var h = token_embedding.forward(tokens) + position_embedding.forward(positions).unsqueeze(0);
        foreach (var layer in layers) h = layer.forward(h, mask);
        return new TextContext(final_norm.forward(h).MoveToOuterDisposeScope(), mask);
    }
}
