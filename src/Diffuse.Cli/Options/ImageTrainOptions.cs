using System.CommandLine;
using System.CommandLine.Parsing;
using Diffuse.Configuration;
using Diffuse.IO;

namespace Diffuse.Cli;

/// <summary>The options of <c>train</c> on images: the U-Net, conditioning, super-resolution, augmentation and the run's rhythm.</summary>
public sealed class ImageTrainOptions
{
    static readonly TrainingSpec Defaults = TrainTemplate.ImageDefaults;

    public Option<string> Preset { get; } = Opt.Parsed("--preset", "the U-Net", name => UNetConfig.Preset(name) is not null ? name : name,
        () => TrainTemplate.DefaultPreset, string.Join('|', UNetConfig.PresetNames));
    public Option<int[]?> ChannelMult { get; } = Opt.Parsed<int[]?>("--channel-mult",
        "the U-Net's levels as comma-separated multipliers of its base channels, e.g. 1,2 for 14x14 images (default: the preset's; attention stays at the preset's deepest level)",
        ParseChannelMult, helpName: "M1,M2,...");
    public Option<double?> Dropout { get; } = Opt.OptionalDouble("--dropout", "U-Net dropout (default: the preset's)", new Bounds(0, Max: 1, MaxExclusive: true));
    public Option<TrainingPrecision> Precision { get; } = Opt.Parsed("--precision",
        "bf16 runs the forward and backward passes in bfloat16 on a copy of the network, with float32 master weights, AdamW state, loss and EMA (mixed precision)",
        name => Json.ParseEnum<TrainingPrecision>(name, "training precision"), () => Defaults.Precision, "fp32|bf16");
    public Option<string> Variance { get; } = Opt.Choice("--variance",
        "learned_range doubles the U-Net's output channels (the interpolation v of Nichol & Dhariwal 2021) and trains with the hybrid loss L_simple + lambda L_vlb",
        "fixed_small", "fixed_small", "fixed_large", "learned_range");
    public Option<double> VlbWeight { get; } = Opt.Double("--vlb-weight", "lambda of the hybrid loss", TrainingSpec.DefaultVlbWeight, Bounds.Within(0, TrainingSpec.MaxVlbWeight));
    public Option<string> Cond { get; } = Opt.Choice("--cond",
        "class trains a class-conditional U-Net on the data's labels (a learned label embedding plus a null label), for 'sample --class' and --guidance; " +
        "text trains a text encoder with cross-attention in the U-Net, on captions made from the class names or on the folder's captions.tsv, for 'sample --prompt'",
        "none", "none", "class", "text");
    public Option<double> CondDrop { get; } = Opt.Double("--cond-drop",
        "with --cond class or text: the probability that a training label (caption) is replaced by the null label (the empty caption), so that the " +
        "network also learns the unconditional model classifier-free guidance needs (Ho & Salimans 2021)", 0.1, Bounds.Within(0, 1));
    public Option<string> Task { get; } = Opt.Choice("--task",
        "superres trains an SR3 super-resolution model (Saharia et al. 2021): the U-Net sees the images shrunk by --scale and upsampled back (bicubic) " +
        "beside x_t; use it with 'diffuse upscale' or as the second stage of a cascade", "generate", "generate", "superres");
    public Option<int> Scale { get; } = Opt.Int("--scale", "superres: the upscaling factor; the low-resolution side is the size / K", 2, 2, 16);
    public Option<int?> CondNoiseMax { get; } = Opt.OptionalInt("--cond-noise-max",
        "superres: noise-conditioning augmentation (Ho et al. 2021): the low-resolution input is noised to x_s, s uniform in [0, S], and the network told s (default: none)", 1);
    public Option<bool> Flip { get; } = Opt.Flag("--flip", "random horizontal flips");
    public Option<int> CropPadding { get; } = Opt.Int("--crop-padding", "random crops after padding by P pixels", Defaults.CropPadding, 0, 64);
    public Option<double?> ValFraction { get; } = TrainingOptions.ValidationFraction($"share of the images held out for the validation loss (default {Defaults.ValidationFraction})");
    public Option<int> CheckpointEvery { get; } = Opt.Int("--checkpoint-every", "steps between checkpoints (also at the end and on Ctrl-C; 0 = only then)", Defaults.CheckpointEvery, 0);
    public Option<int> ValidateEvery { get; } = Opt.Int("--validate-every", "steps between validation losses (0 = never)", Defaults.ValidateEvery, 0);
    public Option<int> SampleEvery { get; } = Opt.Int("--sample-every", "steps between sample grids in DIR/samples (0 = never)", Defaults.SampleEvery, 0);
    public DataOptions Data { get; } = new();

    /// <summary>Every image option but those of reading data (which --resume takes too).</summary>
    public Option[] NewRunOnly => [Preset, ChannelMult, Dropout, Precision, Variance, VlbWeight, Cond, CondDrop, Task, Scale, CondNoiseMax, Flip, CropPadding, ValFraction, CheckpointEvery, ValidateEvery, SampleEvery, Data.ImageSize, Data.Channels, Data.MaxImages];

    public Option[] All => [.. NewRunOnly, Data.DataDir, Data.CacheDir];

    public void AddTo(Command command) => command.AddOptions(All);

    public VarianceType VarianceOf(SymbolResult r) => Json.ParseEnum<VarianceType>(r.GetValue(Variance)!, "variance");

    /// <summary>The U-Net the options describe (its vocabulary is filled in from the captions once the data are loaded).</summary>
    public UNetConfig Unet(SymbolResult r)
    {
        var unet = UNetConfig.Preset(r.GetValue(Preset)!);
        if (r.GetValue(Dropout) is { } dropout) unet = unet with { Dropout = dropout };
        if (r.GetValue(ChannelMult) is { Length: > 0 } mult) unet = TrainTemplate.WithChannelMult(unet, mult);
        // learned_range: the prediction's channels, then v's (ForImages keeps the ratio for the data's channels).
        if (VarianceOf(r) == VarianceType.LearnedRange) unet = unet with { OutChannels = 2 * unet.InChannels };
        if (r.GetValue(Cond) == "text") unet = unet with { TextEncoder = new TextEncoderConfig() };
        return unet;
    }

    /// <summary>The image run's own training settings on top of <paramref name="training"/>.</summary>
    public TrainingSpec Training(SymbolResult r, TrainingSpec training, LossWeighting loss)
    {
        if (r.Given(VlbWeight) && loss != LossWeighting.Hybrid) throw new UsageException("--vlb-weight applies to the hybrid loss (--variance learned_range) only");
        if (r.GetValue(Cond) == "none" && r.Given(CondDrop)) throw new UsageException("--cond-drop applies to conditional training; add --cond class or --cond text");
        return training with
        {
            VlbWeight = loss == LossWeighting.Hybrid ? r.GetValue(VlbWeight) : null,
            HorizontalFlip = r.GetValue(Flip), CropPadding = r.GetValue(CropPadding), ValidationFraction = r.GetValue(ValFraction) ?? Defaults.ValidationFraction,
            CheckpointEvery = r.GetValue(CheckpointEvery), ValidateEvery = r.GetValue(ValidateEvery), SampleEvery = r.GetValue(SampleEvery),
            CondDrop = r.GetValue(Cond) == "none" ? null : r.GetValue(CondDrop), Precision = r.GetValue(Precision),
        };
    }

    /// <summary>--task, --scale and --cond-noise-max: the super-resolution settings, or null for a model that generates.</summary>
    public SuperResSpec? SuperRes(SymbolResult r, int timesteps, Option sde)
    {
        if (r.GetValue(Task) == "generate")
        {
            if (r.FirstGiven(Scale, CondNoiseMax) is { } stray) throw new UsageException($"{stray} applies to super-resolution training; add --task superres");
            return null;
        }
        if (r.FirstGiven(Cond, sde) is { } other)
            throw new UsageException($"{other} does not apply to --task superres (the model is conditioned on its low-resolution input)");
        if (r.GetValue(CondNoiseMax) > timesteps) throw new UsageException($"--cond-noise-max must be between 1 and {timesteps} (the training timesteps), got {r.GetValue(CondNoiseMax)}");
        return new SuperResSpec { Scale = r.GetValue(Scale), CondNoiseMax = r.GetValue(CondNoiseMax) };
    }

    static int[]? ParseChannelMult(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var mult = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out mult[i]) || mult[i] < 1 || mult[i] > 64)
                throw new UsageException($"--channel-mult takes comma-separated integers in [1, 64] such as 1,2,4; got '{text}'");
        if (mult.Length > 8) throw new UsageException($"--channel-mult takes at most 8 levels, got {mult.Length}");
        return mult;
    }
}
