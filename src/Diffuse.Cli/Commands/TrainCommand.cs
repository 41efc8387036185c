using System.CommandLine;
using System.CommandLine.Parsing;
using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Training;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse train</c>: an MLP on 2-D points or a U-Net on images, into a model folder; <c>--resume</c> continues a run.</summary>
public sealed class TrainCommand : DiffuseCommand
{
    readonly TrainOptions train = new();
    readonly SdeOptions sde = new();
    readonly ImageTrainOptions image = new();

    public TrainCommand() : base("train", """
        train a diffusion model on 2-D points or images and write a model folder

        diffuse train --data moons --out runs/moons [options]                  (2-D points: an MLP)
        diffuse train --data mnist --preset tiny --out runs/mnist [options]    (images: a U-Net)
        diffuse train --resume --out runs/mnist [--steps N]                    (continue a run exactly)

        Options that shape the network or its data apply to one kind only (--hidden, --blocks: points; the U-Net, conditioning,
        super-resolution, augmentation and data options: images); the rest apply to both.
        """)
    {
        train.Out.Required = true;
        train.AddTo(this);
        sde.AddTo(this);
        image.AddTo(this);
        this.Check(r => Plan(r));
        SetAction(Run);
    }

    /// <summary>What the options ask for: a resumed run, or a new run of points or images and its model config.</summary>
    sealed record RunPlan(bool Resume, bool Points, string Data, ModelConfig? Template);

    /// <summary>Checks the whole command line (while it is parsed) and builds the model config of a new run.</summary>
    RunPlan Plan(SymbolResult r)
    {
        if (r.GetValue(train.Resume))
        {
            if (r.FirstGiven([.. train.NewRunOnly, .. sde.All, .. image.NewRunOnly]) is { } refused)
                throw new UsageException($"--resume continues with the settings in {r.GetValue(train.Out)}/config.json; {refused} cannot change them " +
                                         "(only --steps, --stop-at, --data-dir and --cache-dir apply)");
            return new RunPlan(true, false, "", null);
        }
        string data = r.GetValue(train.Data) ?? TrainOptions.DefaultData;
        int timesteps = r.GetValue(train.Timesteps);
        bool isSde = r.Given(sde.Type);
        if (Toy2D.Names.Contains(data))
        {
            if (r.FirstGiven([.. image.All, train.StopAt]) is { } imageOnly) throw new UsageException($"{imageOnly} applies to training on images only");
            var pointLoss = train.LossOf(r, learned: false, isSde);
            var points = new ModelConfig
            {
                Model = new MlpConfig { HiddenDim = r.GetValue(train.Hidden), Blocks = r.GetValue(train.Blocks) },
                // Points are normalised to unit spread, so clipping x_0 to [-1, 1] would cut the data.
                Scheduler = train.Scheduler(r, clip: false, VarianceType.FixedSmall),
                Training = train.Training(r, Api.Defaults.PointTraining, pointLoss, null),
                Sde = sde.Read(r, timesteps, train.Schedule),
            };
            return new RunPlan(false, true, data, Checked(points));
        }
        if (!ImageDatasets.Names.Contains(data) && !Directory.Exists(data))
            throw new UsageException($"unknown --data '{data}': expected one of {string.Join(", ", Toy2D.Names.Concat(ImageDatasets.Names))} or an existing folder of IDX files or images");
        if (r.FirstGiven(train.Hidden, train.Blocks) is { } pointOnly) throw new UsageException($"{pointOnly} applies to training on 2-D points only");
        var variance = image.VarianceOf(r);
        var loss = train.LossOf(r, variance == VarianceType.LearnedRange, isSde);
        var images = new ModelConfig
        {
            Model = null,
            Unet = image.Unet(r),
            Training = image.Training(r, train.Training(r, TrainTemplate.ImageDefaults, loss, null), loss),
            Scheduler = train.Scheduler(r, clip: true, variance),
            Sde = sde.Read(r, timesteps, train.Schedule, image.Variance, image.VlbWeight),
            SuperRes = image.SuperRes(r, timesteps, sde.Type),
        };
        return new RunPlan(false, false, data, Checked(images));
    }

    /// <summary>The training settings' own checks (e.g. --batch-size a multiple of --grad-accum), as usage errors of the line.</summary>
    static ModelConfig Checked(ModelConfig config)
    {
        try
        {
            config.Training.Validate();
        }
        catch (DiffuseException e)
        {
            throw new UsageException(ConfigKeyFlags.Message(e));
        }
        return config;
    }

    int Run(ParseResult result)
    {
        var r = result.CommandResult;
        var plan = Plan(r);
        string outDir = r.GetValue(train.Out)!;
        if (plan.Resume)
            return TrainingRuns.Images(new ImageTrainingOptions
            {
                OutDir = outDir, Resume = true, Steps = r.GetValue(train.Steps), Load = image.Data.Read(r), StopAtStep = r.GetValue(train.StopAt),
            }, result.Output());
        if (plan.Points)
        {
            TrainingRuns.Points(plan.Data, outDir, plan.Template!, r.GetValue(train.Force), result.Output());
            return Cli.Ok;
        }
        return TrainingRuns.Images(new ImageTrainingOptions
        {
            Data = plan.Data, OutDir = outDir, Template = plan.Template, Force = r.GetValue(train.Force), Load = image.Data.Read(r), StopAtStep = r.GetValue(train.StopAt),
        }, result.Output());
    }
}
