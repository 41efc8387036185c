using Diffuse.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// A denoiser for low-dimensional data: x [B, D] and integer timesteps t [B] to an output [B, D]
/// (noise, x_0 or v, depending on the model's prediction type). The timestep passes through a
/// sinusoidal embedding and a two-layer MLP, then conditions every residual block.
/// </summary>
public sealed class MlpDenoiser : DenoiserNetwork
{
    private readonly SinusoidalEmbedding time_proj;
    private readonly Sequential time_embedding;
    private readonly Linear input_proj;
    private readonly ModuleList<MlpBlock> blocks;
    private readonly LayerNorm norm_out;
    private readonly Linear output_proj;

    public MlpConfig Config { get; }

    public override NetworkConfig NetworkConfig => Config;

    public MlpDenoiser(MlpConfig config) : base(nameof(MlpDenoiser))
    {
        config.Validate();
        Config = config;
        time_proj = new SinusoidalEmbedding(config.TimeEmbedDim);
        time_embedding = nn.Sequential(
            nn.Linear(config.TimeEmbedDim, config.TimeEmbedDim), nn.SiLU(), nn.Linear(config.TimeEmbedDim, config.TimeEmbedDim));
        input_proj = nn.Linear(config.InputDim, config.HiddenDim);
        blocks = new ModuleList<MlpBlock>();
        for (int i = 0; i < config.Blocks; i++) blocks.Add(new MlpBlock(config.HiddenDim, config.TimeEmbedDim));
        norm_out = nn.LayerNorm(config.HiddenDim);
        output_proj = nn.Linear(config.HiddenDim, config.InputDim);
        RegisterComponents();
    }

    /// <summary>The output for points x [B, D] and timesteps t [B]; an MLP of points takes no condition.</summary>
    public override Tensor Forward(DenoiserInput input)
    {
        if (!input.Condition.IsEmpty) throw Refuses("conditions (class labels, prompts or low-resolution images)");
        var (x, t) = (input.X, input.T);
        if (x.dim() != 2 || x.shape[1] != Config.InputDim)
            throw new DiffuseException($"MLP denoiser expects input of shape [B, {Config.InputDim}], got [{string.Join(", ", x.shape)}]");
        using var scope = NewDisposeScope();
        var temb = time_embedding.forward(time_proj.forward(t).to(x.dtype));
        var h = input_proj.forward(x);
        foreach (var block in blocks) h = block.forward(h, temb);
        return output_proj.forward(nn.functional.silu(norm_out.forward(h))).MoveToOuterDisposeScope();
    }
}
