using System.CommandLine;
using Diffuse.Editing;
using Diffuse.Pipelines;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Cli;

/// <summary>RePaint's <c>--steps</c>, <c>--jump-length</c> and <c>--resample</c> (inpaint, outpaint, eval inpaint), with the library's defaults.</summary>
public sealed class RePaintStepOptions
{
    static readonly RePaintOptions Defaults = new();

    public Option<int> Steps { get; } = Opt.Int("--steps", "reverse steps on a respaced grid of the training timesteps", Defaults.Steps, 1);
    public Option<int> JumpLength { get; } = Opt.Int("--jump-length", "RePaint's jump: after J steps down, J back up", Defaults.JumpLength, 1);
    public Option<int> Resample { get; } = Opt.Int("--resample", "how often each jump point is revisited (1 = plain known-region replacement)", Defaults.Resample, 1);

    public void AddTo(Command command) => command.AddOptions(Steps, JumpLength, Resample);

    /// <summary>The settings, checked against the model's training timesteps.</summary>
    public RePaintOptions Read(ParseResult result, int trainTimesteps)
    {
        var options = new RePaintOptions { Steps = result.GetValue(Steps), JumpLength = result.GetValue(JumpLength), Resample = result.GetValue(Resample) };
        try
        {
            options.Validate(trainTimesteps);
        }
        catch (DiffuseException e)
        {
            throw new UsageException(ConfigKeyFlags.Message(e));
        }
        return options;
    }

    /// <summary>RePaint with the model's network and schedule, the progress shown.</summary>
    public static torch.Tensor Paint(ImageModel model, torch.Tensor known, torch.Tensor mask, int n, long seed, RePaintOptions options)
    {
        var config = model.Config.Scheduler;
        var schedule = NoiseSchedule.FromConfig(config);
        using var batch = known.expand(n, -1, -1, -1).contiguous();
        using var generator = new torch.Generator((ulong)seed);
        var total = RePaint.Schedule(options.Steps, options.JumpLength, options.Resample).Count - 1;
        return ProgressDisplay.Run("repaint", total, report =>
            RePaint.Run(model.Denoise, schedule, config.PredictionType, batch, mask.unsqueeze(0), generator, options, new SyncProgress<(int Done, int Total)>(p => report(p.Done, ""))));
    }
}
