package actions

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pmrun/pmrun/actions/internal/channel"
)

// openChannels creates the scenario's channels and the default one in the
// run's private directory.
func (h *Host) openChannels() error {
	configs := append([]ChannelConfig{{Name: DefaultChannel}}, h.cfg.Channels...)
	h.mu.Lock()
	defer h.mu.Unlock()
	dir, err := h.dirLocked()
	if err != nil {
		return err
	}
	h.channels = make(map[string]*channel.Channel, len(configs))
	for _, c := range configs {
		ch, err := channel.Create(dir, c.Name, channel.Options{
			Kind:       channel.Kind(c.Kind),
			Framing:    channel.Framing(c.Framing),
			MaxMessage: c.MaxMessage,
		})
		if err != nil {
			return err
		}
		h.channels[c.Name] = ch
	}
	return nil
}

// channel returns the run's channel called name.
func (h *Host) channel(name string) (*channel.Channel, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.channels[name]
	if ch == nil {
		return nil, fmt.Errorf("no channel named %q", name)
	}
	return ch, nil
}

// channelEnv is what a spawned process finds of the run's channels:
// PMRUN_CHANNEL_<NAME> holding the path of each FIFO and socket.
func (h *Host) channelEnv() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	env := map[string]string{}
	for _, ch := range h.channels {
		if k, v, ok := strings.Cut(ch.EnvVar(), "="); ok {
			env[k] = v
		}
	}
	return env
}

// channelFiles returns what an agent needs to reach every channel: each
// channel's Spec and the files it names, to pass at spawn. The caller
// closes the files once the agent has started.
func (h *Host) channelFiles() ([]channel.Spec, []*os.File, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var specs []channel.Spec
	var files []*os.File
	for _, ch := range h.channels {
		fs, err := ch.Files()
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, nil, fmt.Errorf("channel %s: %w", ch.Name(), err)
		}
		specs = append(specs, ch.Spec())
		files = append(files, fs...)
	}
	return specs, files, nil
}

func (h *Host) closeChannels() error {
	h.mu.Lock()
	channels := h.channels
	h.channels = nil
	h.mu.Unlock()
	var errs []error
	for _, ch := range channels {
		errs = append(errs, ch.Close())
	}
	return errors.Join(errs...)
}
